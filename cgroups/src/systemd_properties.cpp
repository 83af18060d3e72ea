// systemd_properties.cpp — OCI resources to systemd unit properties (pure).
#include "berth/cgroups/systemd_properties.h"

#include <charconv>
#include <optional>
#include <sstream>

#include "berth/cgroups/translate.h"

namespace berth::cgroups {
namespace {

// Above any kernel's NR_CPUS and MAX_NUMNODES: a typo, not a machine.
constexpr uint64_t max_cpuset_index = 65535;

// Sets `name`, replacing an earlier value of the same name.
void put(std::vector<UnitProperty>& out, std::string name, UnitProperty::Value value) {
  for (auto& p : out)
    if (p.name == name) {
      p.value = std::move(value);
      return;
    }
  out.push_back({std::move(name), std::move(value)});
}

// -1 (or any negative) means unlimited, as in translate.cpp.
uint64_t limit_or_infinity(int64_t v) { return v < 0 ? unit_infinity : static_cast<uint64_t>(v); }

std::optional<uint64_t> parse_number(std::string_view s) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

void cpu(const Resources::Cpu& c, bool unified, uint64_t current_period,
         std::vector<UnitProperty>& out) {
  if (c.shares && *c.shares != 0) {
    if (unified)
      put(out, "CPUWeight", shares_to_weight(*c.shares));
    else
      put(out, "CPUShares", *c.shares);
  }
  bool quota = c.quota && *c.quota != 0, period = c.period && *c.period != 0;
  if (period) put(out, "CPUQuotaPeriodUSec", *c.period);
  // A period alone means an unlimited quota, as translate_v2 writes "max P".
  if (quota || period)
    put(out, "CPUQuotaPerSecUSec",
        cpu_quota_per_sec(quota ? *c.quota : -1, period ? *c.period : current_period));
}

Status cpuset(const Resources::Cpu& c, std::vector<UnitProperty>& out) {
  if (!c.cpus.empty())
    put(out, "AllowedCPUs", BERTH_TRY_CTX(cpuset_to_bitmask(c.cpus), "cpu.cpus"));
  if (!c.mems.empty())
    put(out, "AllowedMemoryNodes", BERTH_TRY_CTX(cpuset_to_bitmask(c.mems), "cpu.mems"));
  return ok();
}

Status memory(const Resources::Memory& m, bool unified, std::vector<UnitProperty>& out) {
  // 0 means "unset", as in translate.cpp.
  if (m.limit && *m.limit != 0)
    put(out, unified ? "MemoryMax" : "MemoryLimit", limit_or_infinity(*m.limit));
  if (!unified) return ok();  // systemd has no v1 soft limit or memsw property
  if (m.reservation && *m.reservation != 0)
    put(out, "MemoryLow", limit_or_infinity(*m.reservation));
  auto swap = BERTH_TRY_CTX(swap_to_v2(m.limit, m.swap), "memory.swap");
  if (swap) put(out, "MemorySwapMax", limit_or_infinity(*swap));
  return ok();
}

// "max" or a number of bytes (or tasks).
Result<uint64_t> unified_limit(const std::string& key, const std::string& value) {
  auto w = words(value);
  if (w.size() == 1 && w[0] == "max") return unit_infinity;
  if (w.size() == 1)
    if (auto n = parse_number(w[0])) return *n;
  return Error::msg("unified." + key + ": invalid value \"" + value + "\"");
}

// cpu.max: "QUOTA [PERIOD]", QUOTA being "max" or microseconds.
Status unified_cpu_max(const std::string& value, uint64_t current_period,
                       std::vector<UnitProperty>& out) {
  auto bad = [&] { return Error::msg("unified.cpu.max: invalid value \"" + value + "\""); };
  auto w = words(value);
  if (w.empty() || w.size() > 2) return bad();
  uint64_t period = current_period;
  if (w.size() == 2) {
    auto p = parse_number(w[1]);
    if (!p || *p == 0) return bad();
    period = *p;
    put(out, "CPUQuotaPeriodUSec", period);
  }
  int64_t quota = -1;
  if (w[0] != "max") {
    auto q = parse_number(w[0]);
    if (!q || *q == 0 || *q > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return bad();
    quota = static_cast<int64_t>(*q);
  }
  put(out, "CPUQuotaPerSecUSec", cpu_quota_per_sec(quota, period));
  return ok();
}

// io.weight: "default N" or "N"; per-device lines have no unit property.
Status unified_io_weight(const std::string& value, std::vector<UnitProperty>& out) {
  auto w = words(value);
  std::optional<uint64_t> n;
  if (w.size() == 1) n = parse_number(w[0]);
  if (w.size() == 2 && w[0] == "default") n = parse_number(w[1]);
  if (w.size() == 2 && w[0] != "default") return ok();
  if (!n) return Error::msg("unified.io.weight: invalid value \"" + value + "\"");
  put(out, "IOWeight", *n);
  return ok();
}

Status unified_entries(const std::map<std::string, std::string>& entries, uint64_t current_period,
               std::vector<UnitProperty>& out) {
  static const std::pair<const char*, const char*> limits[] = {
      {"memory.min", "MemoryMin"}, {"memory.low", "MemoryLow"},
      {"memory.high", "MemoryHigh"}, {"memory.max", "MemoryMax"},
      {"memory.swap.max", "MemorySwapMax"}, {"pids.max", "TasksMax"}};
  for (const auto& [key, value] : entries) {
    bool done = false;
    for (const auto& [file, prop] : limits)
      if (key == file) {
        put(out, prop, BERTH_TRY(unified_limit(key, value)));
        done = true;
      }
    if (done) continue;
    if (key == "cpu.weight") {
      auto w = words(value);
      auto n = w.size() == 1 ? parse_number(w[0]) : std::nullopt;
      if (!n) return Error::msg("unified.cpu.weight: invalid value \"" + value + "\"");
      put(out, "CPUWeight", *n);
    } else if (key == "cpu.max") {
      BERTH_TRY(unified_cpu_max(value, current_period, out));
    } else if (key == "cpuset.cpus" || key == "cpuset.mems") {
      auto mask = BERTH_TRY_CTX(cpuset_to_bitmask(value), "unified." + key);
      put(out, key == "cpuset.cpus" ? "AllowedCPUs" : "AllowedMemoryNodes", std::move(mask));
    } else if (key == "io.weight") {
      BERTH_TRY(unified_io_weight(value, out));
    }
    // Any other file is written by the cgroupfs manager only.
  }
  return ok();
}

}  // namespace

std::vector<UnitProperty> unit_base_properties(const SystemdUnit& unit,
                                               const std::string& description, pid_t pid) {
  std::vector<UnitProperty> out;
  out.push_back({"Description", description});
  if (!unit.is_slice()) {
    out.push_back({"Slice", unit.slice});
    out.push_back({"Delegate", true});
    out.push_back({"PIDs", std::vector<uint32_t>{static_cast<uint32_t>(pid)}});
  }
  out.push_back({"DefaultDependencies", false});
  return out;
}

uint64_t cpu_quota_per_sec(int64_t quota, uint64_t period) {
  if (quota <= 0) return unit_infinity;
  if (period == 0) period = default_cpu_period;
  constexpr uint64_t usec_per_sec = 1000000, percent = 10000;
  auto q = static_cast<uint64_t>(quota);
  if (q > unit_infinity / usec_per_sec) return unit_infinity;  // more than any machine has
  uint64_t per_sec = q * usec_per_sec / period;
  if (per_sec % percent) per_sec += percent - per_sec % percent;
  return per_sec;
}

Result<std::vector<uint8_t>> cpuset_to_bitmask(std::string_view list) {
  auto bad = [&] { return Error::msg("invalid cpu list \"" + std::string(list) + "\""); };
  std::vector<uint8_t> mask;
  std::string_view rest = list;
  while (!rest.empty() && (rest.back() == '\n' || rest.back() == ' ')) rest.remove_suffix(1);
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (comma != std::string_view::npos && rest.empty()) return bad();  // trailing comma
    size_t dash = item.find('-');
    auto lo = parse_number(item.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : parse_number(item.substr(dash + 1));
    if (!lo || !hi || *lo > *hi || *hi > max_cpuset_index) return bad();
    if (mask.size() < *hi / 8 + 1) mask.resize(*hi / 8 + 1, 0);
    for (uint64_t i = *lo; i <= *hi; ++i) mask[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
  }
  return mask;
}

Result<std::vector<UnitProperty>> unit_resource_properties(const Resources& r, bool unified_host,
                                                           uint64_t current_period) {
  std::vector<UnitProperty> out;
  cpu(r.cpu, unified_host, current_period, out);
  if (unified_host) BERTH_TRY(cpuset(r.cpu, out));
  BERTH_TRY(memory(r.memory, unified_host, out));
  if (r.pids.limit)
    put(out, "TasksMax", *r.pids.limit > 0 ? static_cast<uint64_t>(*r.pids.limit) : unit_infinity);
  if (r.block_io.weight && *r.block_io.weight != 0) {
    if (unified_host)
      put(out, "IOWeight", blkio_weight_to_io_weight(*r.block_io.weight));
    else
      put(out, "BlockIOWeight", uint64_t{*r.block_io.weight});
  }
  if (unified_host) BERTH_TRY(unified_entries(r.unified, current_period, out));
  return out;
}

}  // namespace berth::cgroups
