// translate.h — OCI resources to cgroup file writes, as pure functions (no I/O).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/cgroups/resources.h"

namespace berth::cgroups {

/// One cgroup interface file write. The managers apply a list in order.
struct Write {
  std::string controller;  // v1 hierarchy ("memory", "cpu"); empty on v2
  std::string file;        // "memory.max"
  std::string value;       // "max", "50000 100000"
  /// When `file` does not exist, write `fallback_value` to `fallback_file`
  /// instead (kernel-dependent names such as io.bfq.weight vs io.weight).
  std::string fallback_file, fallback_value;
  /// Skip silently when neither file exists (deprecated knobs).
  bool optional = false;

  bool operator==(const Write&) const = default;
};

/// cgroup v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000], with crun
/// 1.8's linear formula `1 + ((shares - 2) * 9999) / 262142` (out-of-range
/// shares are clamped first). crun 1.14+ uses a quadratic curve that maps 1024
/// to 100 exactly; the linear one maps 1024 to 39, as runc does, and is what
/// podman/containerd users on hybrid-era hosts expect.
uint64_t shares_to_weight(uint64_t shares);

/// v1 blkio.weight [10, 1000] to v2 io.weight [1, 10000]:
/// `1 + (w - 10) * 9999 / 990` (clamped).
uint64_t blkio_weight_to_io_weight(uint64_t weight);

/// v1 memory+swap to the v2 swap-only value, as runc and crun convert it:
/// nullopt = leave memory.swap.max alone, -1 = "max", else bytes of swap.
/// Errors when swap is set without a memory limit, or swap < limit.
Result<std::optional<int64_t>> swap_to_v2(std::optional<int64_t> limit,
                                          std::optional<int64_t> swap);

/// The writes for a cgroup v2 leaf, in the order to apply them. Device rules
/// are not files on v2 (see bpf.h) and are ignored here. Unified entries come
/// last so they override the converted values.
Result<std::vector<Write>> translate_v2(const Resources& r);

/// The v1 controllers (hierarchy names) that `writes` touch, or, on v2, the
/// controllers to enable in the parent's cgroup.subtree_control ("memory").
std::vector<std::string> controllers_of(const std::vector<Write>& writes);

/// The writes for cgroup v1 hierarchies, each tagged with its controller, in
/// the order to apply them. `current_memory_limit` (memory.limit_in_bytes now)
/// decides whether memsw or the limit goes first, since the kernel insists on
/// limit <= memsw at every moment. Hugepage limits use the v1 names
/// (hugetlb.2MB.limit_in_bytes); a non-empty unified map is refused (on
/// hybrid hosts the manager sends it, and hugetlb when the kernel has it only
/// in cgroup2, through translate_v2 to the cgroup2 twin instead).
Result<std::vector<Write>> translate_v1(
    const Resources& r,
    uint64_t current_memory_limit = std::numeric_limits<uint64_t>::max());

/// Validates and copies the unified map (keys are plain file names: no '/',
/// no "..", not empty).
Result<std::vector<Write>> translate_unified(const std::map<std::string, std::string>& unified);

/// The devices.deny / devices.allow lines for v1 ("a", "c 1:3 rwm"); empty
/// rules mean "leave the device list alone".
std::vector<Write> translate_v1_devices(const std::vector<DeviceRule>& rules);

/// One rule in the kernel's v1 syntax: "c 1:3 rwm", "a *:* rwm".
std::string device_rule_line(const DeviceRule& rule);

}  // namespace berth::cgroups
