// systemd.cpp — the systemd cgroup manager: starts, updates and stops the
// container's transient unit; the cgroup files go through the fs manager.
#include "systemd.h"

#include <sstream>

#include "berth/base/log.h"
#include "fs.h"

namespace berth::cgroups {
namespace {

constexpr const char* unreachable = "systemd cgroup manager: cannot reach systemd over D-Bus";

}  // namespace

SystemdManager::SystemdManager(SystemdUnit unit, std::string id, std::string root, bool unified,
                               std::unique_ptr<Manager> fs, ConnectSystemd connect)
    : unit_(std::move(unit)),
      id_(std::move(id)),
      root_(std::move(root)),
      unified_(unified),
      fs_(std::move(fs)),
      connect_(std::move(connect)) {}

Result<UnitControl*> SystemdManager::units() {
  if (!units_) {
    auto c = connect_();
    if (!c) return std::move(c).error().wrap(unreachable);
    units_ = std::move(*c);
  }
  return units_.get();
}

Status SystemdManager::create() {
  // Pending from here on: even when systemd cannot be reached, a failed
  // create leaves nothing for destroy() to stop.
  start_pending_ = true;
  BERTH_TRY(units());
  return ok();
}

uint64_t SystemdManager::current_cpu_period() const {
  // A quota given without a period is relative to the one in force (v1
  // cgroups keep it in a file of their own; the default is close enough).
  if (!unified_) return default_cpu_period;
  auto text = fs::read_file(root_ + unit_.path + "/cpu.max");
  if (!text) return default_cpu_period;
  std::istringstream in(*text);
  std::string quota;
  uint64_t period = 0;
  return (in >> quota >> period) && period ? period : default_cpu_period;
}

Status SystemdManager::start_unit(pid_t pid) {
  UnitControl* u = BERTH_TRY(units());
  auto props = unit_base_properties(unit_, "berth container " + id_, pid);
  const size_t base = props.size();
  if (pending_) {
    auto limits = BERTH_TRY_CTX(unit_resource_properties(*pending_, unified_), "linux.resources");
    props.insert(props.end(), limits.begin(), limits.end());
  }
  Status s = u->start_transient_unit(unit_.name, props);
  if (!s && s.error().code() == EEXIST) {
    // A failed unit keeps its name until reset; an active one stays an error.
    (void)u->reset_failed_unit(unit_.name);
    s = u->start_transient_unit(unit_.name, props);
  }
  if (!s && s.error().code() == ENOTSUP && props.size() > base) {
    // An older systemd without some limit property: the cgroup files get
    // every limit anyway, systemd just will not re-apply them.
    log::warn(s.error().what() + "; starting " + unit_.name + " without resource properties");
    props.resize(base);
    s = u->start_transient_unit(unit_.name, props);
  }
  return s;
}

Status SystemdManager::enter(pid_t pid) {
  if (!start_pending_) return fs_->enter(pid);
  BERTH_TRY(start_unit(pid));
  start_pending_ = false;
  // Idempotent where systemd made the cgroup already; on v1 it adds the
  // hierarchies systemd leaves alone (freezer, cpuset), on v2 the
  // controllers it does not enable (hugetlb, misc).
  BERTH_TRY(fs_->create());
  if (pending_) BERTH_TRY_CTX(fs_->set(*pending_), "linux.resources");
  if (owner_) BERTH_TRY(fs_->delegate(owner_->first, owner_->second));
  // systemd moved `pid` into the hierarchies it manages; this covers the rest.
  return fs_->enter(pid);
}

Status SystemdManager::delegate(uid_t uid, gid_t gid) {
  if (!start_pending_) return fs_->delegate(uid, gid);
  owner_ = std::make_pair(uid, gid);
  return ok();
}

Status SystemdManager::set(const Resources& r) {
  if (start_pending_) {
    // Checked now, so a bad limit fails where it would without systemd.
    BERTH_TRY_CTX(unit_resource_properties(r, unified_), "linux.resources");
    if (pending_)
      merge_resources(*pending_, r);
    else
      pending_ = r;
    return ok();
  }
  auto props = BERTH_TRY_CTX(unit_resource_properties(r, unified_, current_cpu_period()),
                             "linux.resources");
  if (!props.empty()) {
    UnitControl* u = BERTH_TRY(units());
    Status s = u->set_unit_properties(unit_.name, props);
    if (!s && s.error().code() != ENOTSUP) return s;
    if (!s) log::warn(s.error().what() + "; writing the cgroup files only");
  }
  return fs_->set(r);
}

Status SystemdManager::destroy() {
  Status stopped = ok();
  if (!start_pending_ && !stop_done_) {
    stop_done_ = true;
    auto u = units();
    if (!u) {
      stopped = std::move(u).error();
    } else {
      stopped = (*u)->stop_unit(unit_.name);
      // ENOENT: the unit went away with its last process.
      if (!stopped && stopped.error().code() == ENOENT) stopped = ok();
      if (stopped) (void)(*u)->reset_failed_unit(unit_.name);
    }
  }
  Status removed = fs_->destroy();
  if (!removed) {
    if (stopped) return removed;
    return Error(removed.error().code(),
                 removed.error().message() + " (" + stopped.error().what() + ")");
  }
  // With its cgroup gone the unit has nothing left to run, and systemd
  // drops it by itself.
  if (!stopped) log::warn(stopped.error().what());
  return ok();
}

Result<std::unique_ptr<Manager>> make_systemd_manager(const Options& opts, ConnectSystemd connect) {
  SystemdUnit unit = BERTH_TRY(systemd_unit(opts.path.empty() ? ":berth:" + opts.id : opts.path));
  Layout layout = BERTH_TRY(detect_layout(opts.root));
  auto fs = BERTH_TRY(make_fs_manager(opts.root, layout, unit.path));
  bool unified = layout == Layout::unified;
  return std::unique_ptr<Manager>(std::make_unique<SystemdManager>(
      std::move(unit), opts.id, opts.root, unified, std::move(fs), std::move(connect)));
}

}  // namespace berth::cgroups
