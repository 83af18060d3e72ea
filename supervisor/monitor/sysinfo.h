// sysinfo.h — sysinfo(2) as the container should see it. The bundle's
// seccomp profile turns every sysinfo call into a user notification; the
// runtime sends each notify fd (the init's at create, one per exec) to the
// monitor's seccomp socket, and the monitor answers from the caller's
// memory cgroup: the RAM and swap totals are the limits, the free figures
// what the cgroup does not use, the uptime the container's (as Incus's
// security.syscalls.intercept.sysinfo does). If the monitor is gone the
// call fails with ENOSYS (the kernel's answer for a notify filter without
// a listener).
#pragma once

#include <linux/seccomp.h>
#include <poll.h>
#include <sys/sysinfo.h>

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/fd.h"

namespace berth::supervisor {

/// No limit (cgroup v2 "max", v1's page-counter maximum).
constexpr uint64_t kNoLimit = UINT64_MAX;

/// What the caller's cgroup says, in bytes (swap alone, not memory + swap).
struct CgroupFigures {
  uint64_t mem_limit = kNoLimit;
  uint64_t mem_usage = 0;
  uint64_t swap_limit = kNoLimit;
  std::optional<uint64_t> swap_usage;  // unknown without v1 swap accounting
  std::optional<uint64_t> tasks;       // unknown without the pids controller
};

/// The struct the container sees: RAM and swap totals are the host's capped
/// by the limits, free is total less usage (never below 0), shared and
/// buffers 0, procs the cgroup's tasks, uptime `uptime`, loads the host's,
/// mem_unit 1. Unknown figures keep the host's.
struct sysinfo container_sysinfo(const struct sysinfo& host, const CgroupFigures& cg, long uptime);

/// Where a process's cgroups are, from the text of /proc/PID/cgroup.
struct CgroupPaths {
  bool v2 = false;     // one unified hierarchy ("0::" line) holds memory
  std::string memory;  // the memory controller's path (v2: the unified path)
  std::string pids;    // the pids controller's path (v2: the same)
};
/// The memory controller's v1 line, else the v2 "0::" line; none when
/// neither is there.
std::optional<CgroupPaths> parse_proc_cgroup(std::string_view text);

/// A limit file's value: kNoLimit for "max" or a v1 value from 2^62 up;
/// none when it is not a number.
std::optional<uint64_t> parse_limit(std::string_view text);

/// Serves the sysinfo notifications of one container from the monitor's
/// poll loop: the listener (the bundle's listenerPath), the runtime's
/// connections sending notify fds, and the notify fds themselves.
class SysinfoServer {
public:
  /// `listen_fd`: a listener carried across the monitor's re-exec, or -1.
  explicit SysinfoServer(int listen_fd = -1);

  /// Listens on `path` (mode 0600), replacing an old socket file.
  Status listen(const std::string& path);
  int listener() const { return listen_.get(); }
  /// Appends a pollfd per listener, sender and notify fd.
  void fill(std::vector<pollfd>& p) const;
  /// Serves the fds after poll; `p` is where fill() began; `started` is
  /// the container's start (epoch seconds).
  void handle(const pollfd* p, time_t started);

private:
  struct Sender {
    UniqueFd fd;
    bool got_fd = false;
    size_t read = 0;  // bytes drained after the fd
  };
  void accept_sender();
  bool read_sender(Sender& s);
  bool answer(int notify_fd, time_t started);
  Status fake_sysinfo(int notify_fd, const seccomp_notif& req, time_t started);

  UniqueFd listen_;
  std::vector<Sender> senders_;
  std::vector<UniqueFd> notify_;
  std::vector<char> req_, resp_;  // sized as the kernel's structs (SECCOMP_GET_NOTIF_SIZES)
  bool warned_ = false;
};

}  // namespace berth::supervisor
