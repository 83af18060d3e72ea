// v2.h — the cgroup v2 manager (also the cgroup2 half of a hybrid host).
#pragma once

#include <string>
#include <vector>

#include "berth/cgroups/manager.h"
#include "berth/cgroups/translate.h"

namespace berth::cgroups {

class V2Manager final : public Manager {
public:
  /// `root` is the cgroup2 mount ("/sys/fs/cgroup" or "<root>/unified"),
  /// `rel` the cgroup path below it ("/berth/abc").
  V2Manager(std::string root, std::string rel);

  Status create() override;
  Status enter(pid_t pid) override;
  Status set(const Resources& r) override;
  Status freeze(bool frozen) override;
  Result<bool> frozen() override;
  Result<std::vector<pid_t>> pids() override;
  Status kill_all(int sig) override;
  Status destroy() override;
  Status delegate(uid_t uid, gid_t gid) override;
  Result<Stats> stats() override;
  Result<uint64_t> oom_kills() override;
  std::string describe() const override { return dir_; }
  const std::string& relative_path() const override { return rel_; }

  /// Applies already-translated v2 writes (hybrid hosts route hugetlb and
  /// unified entries here).
  Status apply(const std::vector<Write>& writes);
  /// Whether the controller is enabled for this cgroup (listed in its
  /// cgroup.controllers).
  bool has_controller(const std::string& name) const;
  /// Whether the cgroup has this interface file ("cgroup.freeze" needs
  /// kernel >= 5.2, "cgroup.kill" kernel >= 5.14).
  bool has_file(const std::string& name) const;

private:
  Status enable_controllers();
  Status wait_frozen(bool frozen);

  std::string root_, rel_, dir_;
};

}  // namespace berth::cgroups
