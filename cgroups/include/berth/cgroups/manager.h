// manager.h — one CgroupManager face over cgroup v2, hybrid/v1 and systemd.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/cgroups/resources.h"

namespace berth::cgroups {

/// How the host mounts cgroups.
enum class Layout {
  unified,  // pure cgroup v2 at the root
  hybrid,   // v1 controllers + a cgroup2 tree at <root>/unified
  legacy,   // v1 only
};

/// Looks at `root` (normally /sys/fs/cgroup) and tells the layout.
Result<Layout> detect_layout(const std::string& root = "/sys/fs/cgroup");

struct MemoryStats {
  uint64_t usage = 0, max_usage = 0, limit = 0, swap_usage = 0, swap_limit = 0;
  uint64_t failcnt = 0, oom_kills = 0;
  std::vector<std::pair<std::string, uint64_t>> raw;  // memory.stat
};
struct CpuStats {
  uint64_t usage_total_ns = 0, usage_user_ns = 0, usage_kernel_ns = 0;
  uint64_t periods = 0, throttled_periods = 0, throttled_time_ns = 0;
};
struct PidsStats {
  uint64_t current = 0, limit = 0;  // limit 0 = max
};
struct IoEntry {
  uint64_t major = 0, minor = 0;
  std::string op;  // "Read", "Write"
  uint64_t value = 0;
};
struct Stats {
  CpuStats cpu;
  MemoryStats memory;
  PidsStats pids;
  std::vector<IoEntry> io_bytes, io_ops;
};

struct Options {
  std::string root = "/sys/fs/cgroup";  // tests point this at a temp dir
  /// The OCI linux.cgroupsPath; empty means "/berth/<id>". With systemd,
  /// "slice:prefix:name" (see paths.h); empty means ":berth:<id>", i.e.
  /// system.slice/berth-<id>.scope.
  std::string path;
  std::string id;
  /// Manage the cgroup as a systemd transient unit (over D-Bus, with
  /// libsystemd loaded only then) instead of writing cgroupfs alone.
  bool systemd = false;
};

/// One container's cgroup, whatever the back-end.
class Manager {
public:
  virtual ~Manager() = default;

  /// Creates the cgroup (idempotent). Does not move any process.
  virtual Status create() = 0;
  /// Moves `pid` into the cgroup.
  virtual Status enter(pid_t pid) = 0;
  /// Writes the resource limits (create time and `update`).
  virtual Status set(const Resources& r) = 0;
  /// Freezes or thaws every process; returns once the state took effect.
  virtual Status freeze(bool frozen) = 0;
  virtual Result<bool> frozen() = 0;
  /// Every pid in the cgroup (and below), as seen from the host.
  virtual Result<std::vector<pid_t>> pids() = 0;
  /// Sends `sig` to every process in the cgroup (cgroup.kill when SIGKILL on v2).
  virtual Status kill_all(int sig) = 0;
  /// Removes the cgroup; fails with EBUSY while processes remain.
  virtual Status destroy() = 0;
  /// Hands the cgroup v2 directory (the cgroup2 tree's mirror on hybrid
  /// hosts) to `uid`/`gid`, the root of a container's user namespace: the
  /// directory and the files the kernel lists as delegatable
  /// (/sys/kernel/cgroup/delegate: cgroup.procs, cgroup.subtree_control
  /// ...), as crun does, so an init behind a cgroup namespace (systemd)
  /// can make and fill sub-groups. The limits' files stay the host's. No-op
  /// on v1-only hosts.
  virtual Status delegate(uid_t uid, gid_t gid) = 0;
  virtual Result<Stats> stats() = 0;
  /// Number of OOM kills so far (memory.events oom_kill / memory.oom_control).
  virtual Result<uint64_t> oom_kills() = 0;
  /// A human-readable location ("/sys/fs/cgroup/berth/abc" or a list for v1).
  virtual std::string describe() const = 0;
  /// The path used inside each hierarchy, e.g. "/berth/abc".
  virtual const std::string& relative_path() const = 0;
};

/// Picks the back-end for the host layout (or systemd when asked).
Result<std::unique_ptr<Manager>> make_manager(const Options& opts);

}  // namespace berth::cgroups
