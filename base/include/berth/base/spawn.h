// spawn.h — starting a program as a child process with posix_spawn (no
// fork of the caller: berthd is large and threaded), and ChildProcess,
// which kills and reaps it unless waited for or released.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth {

/// What one of the child's fds is.
struct Stdio {
  enum class Kind { inherit, null, fd };
  Kind kind = Kind::inherit;
  int fd = -1;

  /// The parent's fd of that number, as it is (close-on-exec fds stay closed).
  static Stdio inherit() { return {}; }
  /// /dev/null: read-only as fd 0, write-only as any other.
  static Stdio null() { return {Kind::null, -1}; }
  /// A duplicate of the parent's `fd` (close-on-exec or not).
  static Stdio use(int fd) { return {Kind::fd, fd}; }
};

struct SpawnOptions {
  Stdio in, out, err;
  /// More fds for the child: `extra[i]` becomes its fd 3 + i.
  std::vector<Stdio> extra;
  /// Close every other fd in the child (the parent's fds without
  /// close-on-exec too), from the first one after the ones set above.
  bool close_other_fds = false;
  /// Look argv[0] up in PATH when it has no '/' (posix_spawnp).
  bool search_path = true;
  /// The child's environment ("NAME=value"); none: the caller's.
  std::optional<std::vector<std::string>> env;
  /// A session of its own (setsid).
  bool new_session = false;
  /// No blocked signal (a daemon that blocks some for signalfd or its
  /// event loop must not hand that on).
  bool unblock_signals = false;
};

/// A started child. Unless wait() or release() was called, the destructor
/// sends it SIGKILL and reaps it.
class ChildProcess {
public:
  ChildProcess() = default;
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(ChildProcess&& o) noexcept : pid_(o.release()) {}
  ChildProcess& operator=(ChildProcess&& o) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  /// Waits for the child to end (restarting on EINTR) and returns its wait
  /// status (WIFEXITED, WEXITSTATUS, ...); the child is no longer held.
  Result<int> wait();
  /// Gives up the child without waiting; returns its pid.
  pid_t release();

private:
  pid_t pid_ = -1;
};

/// Starts argv[0] with `argv`. The error is posix_spawn's errno, with
/// message "spawn <argv[0]>" (ENOENT: no such program).
Result<ChildProcess> spawn(const std::vector<std::string>& argv, const SpawnOptions& opts = {});

/// "exit status N" or "killed by signal NAME", for a wait status.
std::string describe_wait_status(int status);

}  // namespace berth
