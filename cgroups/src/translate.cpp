// translate.cpp — OCI resources to cgroup v1/v2 interface-file writes (pure).
#include "berth/cgroups/translate.h"

#include <algorithm>
#include <cctype>

namespace berth::cgroups {
namespace {

std::string num(int64_t v) { return std::to_string(v); }
std::string unum(uint64_t v) { return std::to_string(v); }

// -1 (or any negative) means unlimited.
std::string limit_or_max(int64_t v) { return v < 0 ? "max" : num(v); }

std::string dev(int64_t major, int64_t minor) { return num(major) + ":" + num(minor); }

Write w2(std::string file, std::string value) {
  return Write{"", std::move(file), std::move(value), "", "", false};
}

Write w1(std::string ctrl, std::string file, std::string value) {
  return Write{std::move(ctrl), std::move(file), std::move(value), "", "", false};
}

// "2MB", "1GB", "64KB": digits then a unit, as the kernel names hugetlb files.
Status check_page_size(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
  std::string unit = s.substr(i);
  if (i == 0 || (unit != "KB" && unit != "MB" && unit != "GB"))
    return Error::msg("hugepageLimits: invalid page size \"" + s + "\" (want e.g. 2MB, 1GB)");
  return ok();
}

void v2_cpu(const Resources::Cpu& c, std::vector<Write>& out) {
  if (c.shares && *c.shares != 0) out.push_back(w2("cpu.weight", unum(shares_to_weight(*c.shares))));
  if ((c.quota && *c.quota != 0) || (c.period && *c.period != 0)) {
    // As runc: without a period only the quota is written and the kernel
    // keeps the current period (100000 on a new cgroup), so an update that
    // changes the quota alone does not reset it.
    std::string v = (c.quota && *c.quota > 0) ? num(*c.quota) : "max";
    if (c.period && *c.period) v += " " + unum(*c.period);
    out.push_back(w2("cpu.max", v));
  }
  // After cpu.max: the kernel wants burst <= quota (the manager retries
  // EINVAL writes once the rest of the list went in).
  if (c.burst) out.push_back(w2("cpu.max.burst", unum(*c.burst)));
  if (c.idle) out.push_back(w2("cpu.idle", num(*c.idle)));
  if (!c.cpus.empty()) out.push_back(w2("cpuset.cpus", c.cpus));
  if (!c.mems.empty()) out.push_back(w2("cpuset.mems", c.mems));
}

Status v2_memory(const Resources::Memory& m, std::vector<Write>& out) {
  // A limit of 0 means "unset", as in runc; writing 0 would kill everything.
  if (m.limit && *m.limit != 0) out.push_back(w2("memory.max", limit_or_max(*m.limit)));
  if (m.reservation && *m.reservation != 0)
    out.push_back(w2("memory.low", limit_or_max(*m.reservation)));
  auto swap = BERTH_TRY_CTX(swap_to_v2(m.limit, m.swap), "memory.swap");
  if (swap) out.push_back(w2("memory.swap.max", limit_or_max(*swap)));
  // swappiness, disableOOMKiller, kernel, kernelTCP and useHierarchy have no
  // v2 file: ignored, as runc and crun do.
  return ok();
}

void v2_io(const Resources::BlockIo& b, std::vector<Write>& out) {
  if (b.weight && *b.weight) {
    Write w = w2("io.bfq.weight", unum(*b.weight));
    w.fallback_file = "io.weight";
    w.fallback_value = "default " + unum(blkio_weight_to_io_weight(*b.weight));
    out.push_back(std::move(w));
  }
  for (const auto& d : b.weight_device) {
    if (!d.weight) continue;
    Write w = w2("io.bfq.weight", dev(d.major, d.minor) + " " + unum(*d.weight));
    w.fallback_file = "io.weight";
    w.fallback_value = dev(d.major, d.minor) + " " + unum(blkio_weight_to_io_weight(*d.weight));
    out.push_back(std::move(w));
  }
  auto throttle = [&](const std::vector<ThrottleDevice>& list, const char* key) {
    // v1 uses 0 to remove a limit; v2 spells that "max".
    for (const auto& d : list)
      out.push_back(w2("io.max", dev(d.major, d.minor) + " " + key + "=" +
                                     (d.rate ? unum(d.rate) : std::string("max"))));
  };
  throttle(b.read_bps, "rbps");
  throttle(b.write_bps, "wbps");
  throttle(b.read_iops, "riops");
  throttle(b.write_iops, "wiops");
}

Status v1_memory(const Resources::Memory& m, uint64_t current_limit, std::vector<Write>& out) {
  std::optional<Write> limit, memsw;
  if (m.limit && *m.limit != 0)
    limit = w1("memory", "memory.limit_in_bytes", num(*m.limit < 0 ? -1 : *m.limit));
  if (m.swap && *m.swap != 0) {
    if (m.limit && *m.limit > 0 && *m.swap > 0 && *m.swap < *m.limit)
      return Error::msg("memory.swap: memory+swap limit " + num(*m.swap) +
                        " is below the memory limit " + num(*m.limit));
    memsw = w1("memory", "memory.memsw.limit_in_bytes", num(*m.swap < 0 ? -1 : *m.swap));
  }
  // The kernel keeps limit <= memsw at every moment: raise memsw first when
  // it grows past the current limit (or becomes unlimited), else lower the
  // limit first.
  bool memsw_first = memsw && (*m.swap < 0 || current_limit < static_cast<uint64_t>(*m.swap));
  if (memsw_first) out.push_back(*memsw);
  if (limit) out.push_back(*limit);
  if (memsw && !memsw_first) out.push_back(*memsw);
  if (m.reservation && *m.reservation != 0)
    out.push_back(w1("memory", "memory.soft_limit_in_bytes",
                     num(*m.reservation < 0 ? -1 : *m.reservation)));
  if (m.swappiness) {
    if (*m.swappiness > 100)
      return Error::msg("memory.swappiness: " + unum(*m.swappiness) + " is above 100");
    out.push_back(w1("memory", "memory.swappiness", unum(*m.swappiness)));
  }
  if (m.disable_oom_killer)
    out.push_back(w1("memory", "memory.oom_control", *m.disable_oom_killer ? "1" : "0"));
  if (m.use_hierarchy) {
    Write w = w1("memory", "memory.use_hierarchy", *m.use_hierarchy ? "1" : "0");
    w.optional = true;  // gone from newer kernels (always hierarchical)
    out.push_back(std::move(w));
  }
  // kernel and kernelTCP (kmem) are deprecated in the spec and ignored.
  return ok();
}

void v1_cpu(const Resources::Cpu& c, std::vector<Write>& out) {
  if (c.shares && *c.shares != 0) out.push_back(w1("cpu", "cpu.shares", unum(*c.shares)));
  // Period before quota, as runc; an EINVAL write is retried after the rest.
  if (c.period && *c.period) out.push_back(w1("cpu", "cpu.cfs_period_us", unum(*c.period)));
  if (c.quota && *c.quota != 0)
    out.push_back(w1("cpu", "cpu.cfs_quota_us", num(*c.quota < 0 ? -1 : *c.quota)));
  if (c.burst) out.push_back(w1("cpu", "cpu.cfs_burst_us", unum(*c.burst)));
  if (c.realtime_period && *c.realtime_period)
    out.push_back(w1("cpu", "cpu.rt_period_us", unum(*c.realtime_period)));
  if (c.realtime_runtime && *c.realtime_runtime != 0)
    out.push_back(w1("cpu", "cpu.rt_runtime_us", num(*c.realtime_runtime)));
  if (c.idle) out.push_back(w1("cpu", "cpu.idle", num(*c.idle)));
  if (!c.cpus.empty()) out.push_back(w1("cpuset", "cpuset.cpus", c.cpus));
  if (!c.mems.empty()) out.push_back(w1("cpuset", "cpuset.mems", c.mems));
}

void v1_blkio(const Resources::BlockIo& b, std::vector<Write>& out) {
  if (b.weight && *b.weight) {
    Write w = w1("blkio", "blkio.weight", unum(*b.weight));
    w.fallback_file = "blkio.bfq.weight";  // CFQ is gone since 5.0
    w.fallback_value = w.value;
    out.push_back(std::move(w));
  }
  if (b.leaf_weight && *b.leaf_weight) {
    Write w = w1("blkio", "blkio.leaf_weight", unum(*b.leaf_weight));
    w.optional = true;  // CFQ only
    out.push_back(std::move(w));
  }
  for (const auto& d : b.weight_device) {
    if (d.weight) {
      Write w = w1("blkio", "blkio.weight_device", dev(d.major, d.minor) + " " + unum(*d.weight));
      w.fallback_file = "blkio.bfq.weight_device";
      w.fallback_value = w.value;
      out.push_back(std::move(w));
    }
    if (d.leaf_weight) {
      Write w = w1("blkio", "blkio.leaf_weight_device",
                   dev(d.major, d.minor) + " " + unum(*d.leaf_weight));
      w.optional = true;
      out.push_back(std::move(w));
    }
  }
  auto throttle = [&](const std::vector<ThrottleDevice>& list, const char* file) {
    for (const auto& d : list)
      out.push_back(w1("blkio", file, dev(d.major, d.minor) + " " + unum(d.rate)));
  };
  throttle(b.read_bps, "blkio.throttle.read_bps_device");
  throttle(b.write_bps, "blkio.throttle.write_bps_device");
  throttle(b.read_iops, "blkio.throttle.read_iops_device");
  throttle(b.write_iops, "blkio.throttle.write_iops_device");
}

}  // namespace

uint64_t shares_to_weight(uint64_t shares) {
  shares = std::clamp<uint64_t>(shares, 2, 262144);
  return 1 + ((shares - 2) * 9999) / 262142;
}

uint64_t blkio_weight_to_io_weight(uint64_t weight) {
  weight = std::clamp<uint64_t>(weight, 10, 1000);
  return 1 + (weight - 10) * 9999 / 990;
}

Result<std::optional<int64_t>> swap_to_v2(std::optional<int64_t> limit,
                                          std::optional<int64_t> swap) {
  int64_t mem = limit.value_or(0), sw = swap.value_or(0);
  // Unlimited memory with swap unset means both unlimited, as in cgroup v1.
  if (mem == -1 && sw == 0) return std::optional<int64_t>(-1);
  if (sw == 0) return std::optional<int64_t>();
  if (sw < 0) return std::optional<int64_t>(-1);
  if (mem <= 0) return Error::msg("cannot set a swap limit without a memory limit");
  if (sw < mem)
    return Error::msg("memory+swap limit " + num(sw) + " is below the memory limit " + num(mem));
  return std::optional<int64_t>(sw - mem);
}

Result<std::vector<Write>> translate_unified(const std::map<std::string, std::string>& unified) {
  std::vector<Write> out;
  for (const auto& [key, value] : unified) {
    if (key.empty() || key.find('/') != std::string::npos || key.find("..") != std::string::npos ||
        key.front() == '.')
      return Error::msg("unified: invalid cgroup file name \"" + key + "\"");
    out.push_back(w2(key, value));
  }
  return out;
}

Result<std::vector<Write>> translate_v2(const Resources& r) {
  std::vector<Write> out;
  if ((r.cpu.realtime_runtime && *r.cpu.realtime_runtime != 0) ||
      (r.cpu.realtime_period && *r.cpu.realtime_period != 0))
    return Error::msg("cpu.realtimeRuntime/realtimePeriod: not supported on cgroup v2");
  v2_cpu(r.cpu, out);
  BERTH_TRY(v2_memory(r.memory, out));
  if (r.pids.limit) out.push_back(w2("pids.max", *r.pids.limit > 0 ? num(*r.pids.limit) : "max"));
  v2_io(r.block_io, out);
  for (const auto& h : r.hugepage_limits) {
    BERTH_TRY(check_page_size(h.page_size));
    out.push_back(w2("hugetlb." + h.page_size + ".max", unum(h.limit)));
  }
  auto unified = BERTH_TRY(translate_unified(r.unified));
  out.insert(out.end(), unified.begin(), unified.end());
  return out;
}

std::vector<std::string> controllers_of(const std::vector<Write>& writes) {
  std::vector<std::string> out;
  for (const auto& w : writes) {
    std::string c = w.controller.empty() ? w.file.substr(0, w.file.find('.')) : w.controller;
    if (c == "cgroup") continue;  // core files, not a controller
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  return out;
}

Result<std::vector<Write>> translate_v1(const Resources& r, uint64_t current_memory_limit) {
  std::vector<Write> out;
  if (!r.unified.empty())
    return Error::msg("unified: cgroup v2 files cannot be set on a cgroup v1 host");
  v1_cpu(r.cpu, out);
  BERTH_TRY(v1_memory(r.memory, current_memory_limit, out));
  if (r.pids.limit)
    out.push_back(w1("pids", "pids.max", *r.pids.limit > 0 ? num(*r.pids.limit) : "max"));
  v1_blkio(r.block_io, out);
  for (const auto& h : r.hugepage_limits) {
    BERTH_TRY(check_page_size(h.page_size));
    out.push_back(w1("hugetlb", "hugetlb." + h.page_size + ".limit_in_bytes", unum(h.limit)));
  }
  auto devices = translate_v1_devices(r.devices);
  out.insert(out.end(), devices.begin(), devices.end());
  return out;
}

std::string device_rule_line(const DeviceRule& rule) {
  auto part = [](const std::optional<int64_t>& n) { return n ? num(*n) : std::string("*"); };
  return std::string(1, rule.type) + " " + part(rule.major) + ":" + part(rule.minor) + " " +
         rule.access;
}

std::vector<Write> translate_v1_devices(const std::vector<DeviceRule>& rules) {
  std::vector<Write> out;
  if (rules.empty()) return out;
  // Start from deny-all, then replay the rules in order: later rules win,
  // as the kernel's exception list behaves.
  out.push_back(w1("devices", "devices.deny", "a"));
  for (const auto& rule : rules)
    out.push_back(w1("devices", rule.allow ? "devices.allow" : "devices.deny",
                     device_rule_line(rule)));
  return out;
}

}  // namespace berth::cgroups
