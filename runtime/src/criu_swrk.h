// criu_swrk.h — one request to a `criu swrk` child over a SOCK_SEQPACKET
// socket pair, as runc and crun drive CRIU: notifications answered on the
// way, the final answer returned.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "criu_rpc.h"

namespace berth::runtime::criu {

struct SwrkCall {
  std::string criu = "criu";  // the binary (the global --criu flag)
  Request request;
  /// Descriptors criu inherits under the same numbers (images and work
  /// dirs, inherit_fd's, the status fd); everything else stays closed.
  std::vector<int> pass_fds;
  /// Runs once criu is started and before the request is sent (e.g. to
  /// move criu into the container's cgroup for a restore).
  std::function<berth::Status(pid_t criu_pid)> before_request;
  /// A notification (notify_scripts): its script name and pid, and the fd
  /// that came with it (orphan-pts-master). An error answers "failed" and
  /// becomes the call's error.
  std::function<berth::Status(const Response&, UniqueFd fd)> on_notify;
  /// Where criu's log is, for the error message.
  std::string log_path;
  /// criu's stdio on /dev/null (a question such as VERSION: nothing of
  /// criu's own on our stderr). Otherwise criu has ours, which a restore
  /// hands to the restored tasks.
  bool quiet = false;
};

/// Starts criu, sends the request, answers notifications, returns the
/// final answer once criu has exited. An answer with success false is an
/// error carrying criu's message and errno, and naming the log.
Result<Response> swrk(const SwrkCall& c);

}  // namespace berth::runtime::criu
