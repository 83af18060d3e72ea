// resources.h — OCI linux.resources as plain data, and its JSON parser.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::cgroups {

struct DeviceRule {
  bool allow = false;
  char type = 'a';            // 'a', 'c', 'b'
  std::optional<int64_t> major;  // absent = wildcard
  std::optional<int64_t> minor;
  std::string access = "rwm";    // subset of "rwm"
};

struct WeightDevice {
  int64_t major = 0, minor = 0;
  std::optional<uint16_t> weight, leaf_weight;
};

struct ThrottleDevice {
  int64_t major = 0, minor = 0;
  uint64_t rate = 0;
};

struct HugepageLimit {
  std::string page_size;  // "2MB", "1GB"
  uint64_t limit = 0;
};

struct Resources {
  struct Memory {
    std::optional<int64_t> limit, reservation, swap, kernel, kernel_tcp;
    std::optional<uint64_t> swappiness;
    std::optional<bool> disable_oom_killer, use_hierarchy, check_before_update;
  } memory;
  struct Cpu {
    std::optional<uint64_t> shares, period, burst, realtime_period;
    std::optional<int64_t> quota, realtime_runtime, idle;
    std::string cpus, mems;
  } cpu;
  struct Pids {
    std::optional<int64_t> limit;
  } pids;
  struct BlockIo {
    std::optional<uint16_t> weight, leaf_weight;
    std::vector<WeightDevice> weight_device;
    std::vector<ThrottleDevice> read_bps, write_bps, read_iops, write_iops;
  } block_io;
  std::vector<HugepageLimit> hugepage_limits;
  std::vector<DeviceRule> devices;
  std::map<std::string, std::string> unified;  // cgroup v2 file -> value
};

/// Parses an OCI LinuxResources object. `where` names it in errors
/// ("linux.resources"); errors name the full field path.
Result<Resources> parse_resources(const json::Value& v, const std::string& where);

/// Overlays the fields present in `update` onto `base` (runc update semantics).
void merge_resources(Resources& base, const Resources& update);

}  // namespace berth::cgroups
