// sessions.h — the monitor's commands on terminals (`berth exec -t`,
// `berth enter`). Each runs through a helper process forked from the
// monitor: the helper joins the container through the runtime library's
// exec (namespaces, cgroup, user, capabilities, seccomp), sends the pty
// master back to the monitor and waits for the command, whose exit status
// becomes its own. The monitor relays frames (frames.h) between the pty
// and the client, so a session's processes are the monitor's, like the
// container's.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "berth/base/fd.h"
#include "berth/runtime/container.h"

namespace berth::supervisor {

class Sessions {
public:
  Sessions(runtime::Globals g, std::string name, std::string bundle)
      : g_(std::move(g)), name_(std::move(name)), bundle_(std::move(bundle)) {}

  /// Starts the command `request` asks for ({"args","env","rows","cols"})
  /// for `client`; `early` holds frames that came with the request.
  void start(UniqueFd client, const std::string& request, std::string early);
  /// Appends three pollfds per session (client, helper, pty master).
  void fill(std::vector<pollfd>& p) const;
  /// Serves the sessions' fds after poll; `p` is where fill() began.
  void handle(const pollfd* p);
  /// A child the monitor reaped: when it is a session's helper, the
  /// session ends with its status.
  void reaped(pid_t pid, int status);
  /// Removes the sessions that ended.
  void sweep();
  size_t size() const { return s_.size(); }

private:
  struct Session {
    UniqueFd client, ctl, master;
    pid_t helper = 0;
    std::string in, to_pty, error;
    bool done = false;
    bool master_hup = false;  // every slave fd closed: nothing more to read until the exit
  };
  void read_ctl(Session& s);
  void read_client(Session& s);
  void take_frames(Session& s);
  void read_master(Session& s);
  void flush_pty(Session& s);
  void finish(Session& s, int code);
  void hang_up(Session& s);

  runtime::Globals g_;
  std::string name_, bundle_;
  std::vector<Session> s_;
};

}  // namespace berth::supervisor
