// v1.h — the cgroup v1 manager for legacy and hybrid hosts.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "berth/cgroups/manager.h"
#include "v2.h"

namespace berth::cgroups {

class V1Manager final : public Manager {
public:
  /// `mounts` maps each v1 controller to its hierarchy's mount point
  /// (co-mounted controllers share one); `unified` is the cgroup2 half on a
  /// hybrid host, or null on a legacy one.
  V1Manager(std::map<std::string, std::string> mounts, std::string rel,
            std::unique_ptr<V2Manager> unified);

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
  std::string describe() const override;
  const std::string& relative_path() const override { return rel_; }

private:
  bool has(const std::string& ctrl) const { return mounts_.count(ctrl) != 0; }
  std::string dir(const std::string& ctrl) const { return mounts_.at(ctrl) + rel_; }
  std::vector<std::string> hierarchy_dirs() const;  // one per mount point
  Status init_cpuset();
  Status set_freezer(const std::string& state);
  void read_cpu_stats(Stats& st);
  void read_memory_stats(Stats& st);
  void read_blkio_stats(Stats& st);

  std::map<std::string, std::string> mounts_;
  std::string rel_;
  std::unique_ptr<V2Manager> unified_;
};

}  // namespace berth::cgroups
