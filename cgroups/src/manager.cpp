// manager.cpp — host layout detection and the choice of cgroup back-end.
#include "berth/cgroups/manager.h"

#include <climits>
#include <cstdlib>
#include <mutex>
#include <optional>

#include "berth/cgroups/paths.h"
#include "fs.h"
#include "systemd.h"
#include "v1.h"
#include "v2.h"

namespace berth::cgroups {
namespace {

constexpr const char* v1_controllers[] = {"cpu",     "cpuacct", "cpuset", "memory", "devices",
                                          "freezer", "blkio",   "pids",   "hugetlb"};

std::string real_path(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) ? std::string(buf) : p;
}

// Controller -> mount point. On the real /sys/fs/cgroup the mount table is
// the truth (names such as "cpu,cpuacct" vary by distribution); elsewhere
// (tests) <root>/<ctrl> directories stand for the hierarchies.
std::map<std::string, std::string> v1_mounts(const std::string& root, std::string* v2_mount) {
  std::map<std::string, std::string> out;
  if (root == "/sys/fs/cgroup") {
    // Once a process, and by name where the layout is the usual one: the
    // mount table holds two mounts for every running container (their
    // disks), and reading it cost each exec and each container's create
    // 2-5 ms of kernel time on a node running hundreds.
    static std::mutex mu;
    static std::optional<CgroupMounts> cached;
    std::lock_guard lock(mu);
    if (!cached)
      if (auto text = fs::read_file("/proc/cgroups")) cached = cgroup_mounts_by_name(root, *text);
    if (!cached)
      if (auto text = fs::read_file("/proc/self/mountinfo")) cached = parse_cgroup_mounts(*text);
    if (cached) {
      for (const char* c : v1_controllers)
        if (auto it = cached->v1.find(c); it != cached->v1.end()) out[c] = it->second;
      if (v2_mount) *v2_mount = cached->v2;
      return out;
    }
  }
  for (const char* c : v1_controllers)
    if (fs::is_dir(root + "/" + c)) out[c] = real_path(root + "/" + c);
  if (v2_mount && fs::exists(root + "/unified/cgroup.controllers")) *v2_mount = root + "/unified";
  return out;
}

}  // namespace

Result<Layout> detect_layout(const std::string& root) {
  if (!fs::is_dir(root)) return Error(ENOENT, "detect cgroup layout: " + root + " is not a directory");
  if (fs::exists(root + "/cgroup.controllers")) return Layout::unified;
  if (fs::exists(root + "/unified/cgroup.controllers") && fs::is_dir(root + "/memory"))
    return Layout::hybrid;
  return Layout::legacy;
}

Result<std::unique_ptr<Manager>> make_fs_manager(const std::string& root, Layout layout,
                                                 const std::string& rel) {
  if (layout == Layout::unified)
    return std::unique_ptr<Manager>(std::make_unique<V2Manager>(root, rel));
  std::string v2_mount;
  auto mounts = v1_mounts(root, layout == Layout::hybrid ? &v2_mount : nullptr);
  if (mounts.empty())
    return Error(ENOENT, "make cgroup manager: no cgroup hierarchy under " + root);
  std::unique_ptr<V2Manager> unified;
  if (!v2_mount.empty()) unified = std::make_unique<V2Manager>(v2_mount, rel);
  return std::unique_ptr<Manager>(
      std::make_unique<V1Manager>(std::move(mounts), rel, std::move(unified)));
}

Result<std::unique_ptr<Manager>> make_manager(const Options& opts) {
  if (opts.systemd) return make_systemd_manager(opts, connect_systemd);
  std::string rel = BERTH_TRY(cgroup_relative_path(opts.path, opts.id));
  Layout layout = BERTH_TRY(detect_layout(opts.root));
  return make_fs_manager(opts.root, layout, rel);
}

}  // namespace berth::cgroups
