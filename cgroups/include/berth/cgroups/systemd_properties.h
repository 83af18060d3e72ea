// systemd_properties.h — OCI resources to systemd unit properties, as pure functions (no I/O).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "berth/base/error.h"
#include "berth/cgroups/paths.h"
#include "berth/cgroups/resources.h"

namespace berth::cgroups {

/// One unit property as StartTransientUnit and SetUnitProperties take it
/// (an "(sv)" pair). The alternatives are the D-Bus types b, t, s, au, ay.
struct UnitProperty {
  using Value =
      std::variant<bool, uint64_t, std::string, std::vector<uint32_t>, std::vector<uint8_t>>;
  std::string name;
  Value value;

  bool operator==(const UnitProperty&) const = default;
};

/// systemd's "no limit" for t-typed limits (MemoryMax=infinity).
inline constexpr uint64_t unit_infinity = std::numeric_limits<uint64_t>::max();

/// The cpu period, in microseconds, a quota without one is taken against
/// (the kernel's and systemd's default).
inline constexpr uint64_t default_cpu_period = 100000;

/// The properties of a new transient unit, before any limit: Description;
/// for a scope also Slice, Delegate=true and PIDs=[pid] (a scope is born with
/// its processes); DefaultDependencies=false, so the unit is not ordered
/// against shutdown and basic targets the way services are.
std::vector<UnitProperty> unit_base_properties(const SystemdUnit& unit,
                                               const std::string& description, pid_t pid);

/// The properties systemd knows for the limits in `r`, so that systemd
/// re-applying the unit (daemon-reload, set-property) writes the same values
/// the cgroup files get. `unified` (a pure cgroup v2 host) picks the v2 names
/// (CPUWeight, MemoryMax, MemoryLow, MemorySwapMax, IOWeight, AllowedCPUs,
/// AllowedMemoryNodes, and the unified map's memory.min/low/high/max,
/// memory.swap.max, pids.max, cpu.weight, cpu.max, cpuset.*, io.weight),
/// otherwise the v1 ones (CPUShares, MemoryLimit, BlockIOWeight); TasksMax,
/// CPUQuotaPerSecUSec and CPUQuotaPeriodUSec on both. Values use the same
/// conversions as translate.h (shares_to_weight, swap_to_v2, -1 =
/// unit_infinity). `current_period` is the cpu period a quota given without
/// one is relative to. Later entries for a name replace earlier ones, so
/// unified entries override the converted values. Everything systemd does
/// not model (burst, idle, realtime, swappiness, throttling, hugetlb, device
/// rules) is left to the cgroup files.
Result<std::vector<UnitProperty>> unit_resource_properties(
    const Resources& r, bool unified, uint64_t current_period = default_cpu_period);

/// CPUQuotaPerSecUSec for a cfs quota and period (0 = default_cpu_period):
/// unit_infinity for quota <= 0, else quota * 1s / period rounded up to a
/// whole percent (10000us), since systemd keeps quotas as whole percents in
/// the unit's drop-in and a daemon-reload must not shrink them.
uint64_t cpu_quota_per_sec(int64_t quota, uint64_t period);

/// A cpuset list ("0-3,8") as systemd's AllowedCPUs= bitmask: bit j of
/// byte i is CPU (or node) 8*i+j. An empty list gives an empty mask.
Result<std::vector<uint8_t>> cpuset_to_bitmask(std::string_view list);

}  // namespace berth::cgroups
