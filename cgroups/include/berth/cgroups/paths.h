// paths.h — cgroup path rules: linux.cgroupsPath, systemd slices, mountinfo.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::cgroups {

/// The path inside each hierarchy for an OCI linux.cgroupsPath: empty gives
/// "/berth/<id>"; a relative path ("a/b") is taken relative to the hierarchy
/// root too ("/a/b"), which is what runc does for the cgroupfs driver.
/// Duplicate and trailing slashes are dropped; "." and ".." components are
/// refused with an error naming linux.cgroupsPath.
Result<std::string> cgroup_relative_path(const std::string& cgroups_path, const std::string& id);

/// Expands a systemd slice name to its path: "a-b.slice" -> "/a.slice/a-b.slice",
/// "-.slice" -> "" (the root slice).
Result<std::string> expand_slice(std::string_view slice);

/// The systemd unit a "slice:prefix:name" cgroupsPath stands for.
struct SystemdUnit {
  std::string name;   // "libpod-abc.scope", or "a-b.slice" for a slice unit
  std::string slice;  // the parent slice of a scope ("machine.slice"); empty for a slice unit
  std::string path;   // its cgroup path, "/machine.slice/libpod-abc.scope"

  bool is_slice() const { return slice.empty(); }
  bool operator==(const SystemdUnit&) const = default;
};

/// Parses "slice:prefix:name" as runc does: the unit is "<prefix>-<name>.scope"
/// ("<name>.scope" with no prefix) in the slice (default "system.slice"); a
/// name ending in ".slice" is a slice unit of that name, placed from the root
/// as systemd places slices. Errors name linux.cgroupsPath.
Result<SystemdUnit> systemd_unit(const std::string& spec);

/// The cgroup path of systemd_unit(spec), e.g.
/// "machine.slice:libpod:abc" -> "/machine.slice/libpod-abc.scope".
Result<std::string> systemd_path(const std::string& spec);

/// Where the v1 controllers and the cgroup2 tree are mounted.
struct CgroupMounts {
  std::map<std::string, std::string> v1;  // controller ("cpu", "name=systemd") -> mount point
  std::string v2;                         // cgroup2 mount point, empty if none
};

/// Reads /proc/self/mountinfo text. Co-mounted controllers ("cpu,cpuacct")
/// map to the same mount point; the first cgroup2 mount wins.
CgroupMounts parse_cgroup_mounts(std::string_view mountinfo);

/// The same answer without the mount table, where the host lays cgroups
/// out as systemd, cgroupfs-mount and LXC do: every controller that
/// /proc/cgroups (`proc_cgroups`, its text) shows enabled on a v1
/// hierarchy is a cgroup mount at ROOT/NAME, or a symlink to its co-mount
/// ("cpu" -> "cpu,cpuacct"), and cgroup2, if any, is at ROOT/unified or
/// ROOT itself. Returns nullopt when a controller is not where its name
/// says: then only the mount table knows. Controllers only (no "name=").
std::optional<CgroupMounts> cgroup_mounts_by_name(const std::string& root, std::string_view proc_cgroups);

}  // namespace berth::cgroups
