// systemd.h — the systemd cgroup manager: a transient unit per container,
// with the cgroup files themselves handled by the v2 or v1 manager.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/cgroups/manager.h"
#include "berth/cgroups/paths.h"
#include "berth/cgroups/systemd_properties.h"

namespace berth::cgroups {

/// The calls the systemd back-end makes on systemd's Manager object. One
/// implementation talks D-Bus (systemd_dbus.cpp); tests record the calls.
/// Errors carry ENOENT for NoSuchUnit, EEXIST for UnitExists and ENOTSUP for
/// a property this systemd does not know or cannot change.
class UnitControl {
public:
  virtual ~UnitControl() = default;
  /// StartTransientUnit(name, "replace", props), then waits for its job.
  virtual Status start_transient_unit(const std::string& name,
                                      const std::vector<UnitProperty>& props) = 0;
  /// SetUnitProperties(name, runtime=true, props).
  virtual Status set_unit_properties(const std::string& name,
                                     const std::vector<UnitProperty>& props) = 0;
  /// StopUnit(name, "replace"), then waits for its job.
  virtual Status stop_unit(const std::string& name) = 0;
  /// ResetFailedUnit(name), so a failed unit does not block its name.
  virtual Status reset_failed_unit(const std::string& name) = 0;
};

/// Opens a connection to systemd: its private socket when root (no D-Bus
/// daemon needed), else the system bus. libsystemd is loaded on first use.
using ConnectSystemd = std::function<Result<std::unique_ptr<UnitControl>>()>;
Result<std::unique_ptr<UnitControl>> connect_systemd();

class SystemdManager final : public Manager {
public:
  /// `fs` manages the unit's cgroup path in the hierarchies under `root`;
  /// `unified` says whether they are pure cgroup v2; `connect` is called
  /// once, when systemd is first needed.
  SystemdManager(SystemdUnit unit, std::string id, std::string root, bool unified,
                 std::unique_ptr<Manager> fs, ConnectSystemd connect);

  /// Reaches systemd (so a host without it fails before any process
  /// exists). The unit itself starts at the next enter(), since a scope is
  /// born with its first process.
  Status create() override;
  /// After create(): starts the unit with `pid` in it, then lets the fs
  /// manager make what systemd does not (v1 hierarchies systemd leaves
  /// alone, controllers it does not enable) and write every limit. Later
  /// (exec): moves `pid` into the cgroup.
  Status enter(pid_t pid) override;
  /// Tells systemd the limits it models, then writes all of them to the
  /// cgroup files. Between create() and enter() the limits are kept for the
  /// start.
  Status set(const Resources& r) override;
  Status freeze(bool frozen) override { return fs_->freeze(frozen); }
  Result<bool> frozen() override { return fs_->frozen(); }
  Result<std::vector<pid_t>> pids() override { return fs_->pids(); }
  Status kill_all(int sig) override { return fs_->kill_all(sig); }
  /// Stops the unit (once; a unit already gone is fine), then removes what
  /// is left of the cgroup.
  Status destroy() override;
  /// Before the start the owner is kept and handed over once the unit's
  /// cgroup exists.
  Status delegate(uid_t uid, gid_t gid) override;
  Result<Stats> stats() override { return fs_->stats(); }
  Result<uint64_t> oom_kills() override { return fs_->oom_kills(); }
  std::string describe() const override { return unit_.name + " (" + fs_->describe() + ")"; }
  const std::string& relative_path() const override { return unit_.path; }

private:
  Result<UnitControl*> units();
  Status start_unit(pid_t pid);
  uint64_t current_cpu_period() const;

  SystemdUnit unit_;
  std::string id_, root_;
  bool unified_;
  std::unique_ptr<Manager> fs_;
  ConnectSystemd connect_;
  std::unique_ptr<UnitControl> units_;
  bool start_pending_ = false;        // create() ran, the unit is not started yet
  std::optional<Resources> pending_;  // limits set() got before the start
  std::optional<std::pair<uid_t, gid_t>> owner_;  // delegate() before the start
  bool stop_done_ = false;
};

/// The systemd manager for `opts` (opts.path "slice:prefix:name", empty for
/// ":berth:<id>"), reaching systemd through `connect`.
Result<std::unique_ptr<Manager>> make_systemd_manager(const Options& opts, ConnectSystemd connect);

/// The cgroupfs manager for `rel` on the `layout` found under `root`
/// (defined in manager.cpp).
Result<std::unique_ptr<Manager>> make_fs_manager(const std::string& root, Layout layout,
                                                 const std::string& rel);

}  // namespace berth::cgroups
