// resources.cpp — parses OCI linux.resources into Resources and merges updates.
#include "berth/cgroups/resources.h"

#include <limits>
#include <string_view>

namespace berth::cgroups {
namespace {

using json::Value;

Error type_error(const std::string& path, const char* expected, const Value& v) {
  std::string got = Value::type_name(v.type());
  std::string_view want = expected;
  bool wants_integer = want.ends_with("integer");
  if (wants_integer && v.is_int() && v.as_int() < 0) got = "negative number";
  if (wants_integer && v.is_number() && !v.is_int() && !v.is_uint()) got = "non-integral number";
  if (wants_integer && v.is_uint() && !v.is_int()) got = "number beyond int64";
  return Error::msg(path + ": expected " + expected + ", got " + got);
}

// Each reader leaves `out` alone when the key is absent or null.
Status read_int(const Value& obj, const char* key, const std::string& where,
                std::optional<int64_t>& out) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return ok();
  if (!v->is_int()) return type_error(where + "." + key, "integer", *v);
  out = v->as_int();
  return ok();
}

Status read_uint(const Value& obj, const char* key, const std::string& where,
                 std::optional<uint64_t>& out) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return ok();
  if (!v->is_uint()) return type_error(where + "." + key, "unsigned integer", *v);
  out = v->as_uint();
  return ok();
}

Status read_u16(const Value& obj, const char* key, const std::string& where,
                std::optional<uint16_t>& out) {
  std::optional<uint64_t> wide;
  BERTH_TRY(read_uint(obj, key, where, wide));
  if (!wide) return ok();
  if (*wide > std::numeric_limits<uint16_t>::max())
    return Error::msg(where + "." + key + ": expected integer in 0..65535, got " +
                      std::to_string(*wide));
  out = static_cast<uint16_t>(*wide);
  return ok();
}

Status read_bool(const Value& obj, const char* key, const std::string& where,
                 std::optional<bool>& out) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return ok();
  if (!v->is_bool()) return type_error(where + "." + key, "boolean", *v);
  out = v->as_bool();
  return ok();
}

Status read_string(const Value& obj, const char* key, const std::string& where,
                   std::string& out) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return ok();
  if (!v->is_string()) return type_error(where + "." + key, "string", *v);
  out = v->as_string();
  return ok();
}

// Finds an optional sub-object; nullptr when absent or null.
Result<const Value*> sub_object(const Value& obj, const char* key, const std::string& where) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return static_cast<const Value*>(nullptr);
  if (!v->is_object()) return type_error(where + "." + key, "object", *v);
  return v;
}

Result<const json::Array*> sub_array(const Value& obj, const char* key,
                                     const std::string& where) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return static_cast<const json::Array*>(nullptr);
  if (!v->is_array()) return type_error(where + "." + key, "array", *v);
  return &v->as_array();
}

std::string index_path(const std::string& where, const char* key, size_t i) {
  return where + "." + key + "[" + std::to_string(i) + "]";
}

Status parse_memory(const Value& m, const std::string& w, Resources::Memory& out) {
  BERTH_TRY(read_int(m, "limit", w, out.limit));
  BERTH_TRY(read_int(m, "reservation", w, out.reservation));
  BERTH_TRY(read_int(m, "swap", w, out.swap));
  BERTH_TRY(read_int(m, "kernel", w, out.kernel));
  BERTH_TRY(read_int(m, "kernelTCP", w, out.kernel_tcp));
  BERTH_TRY(read_uint(m, "swappiness", w, out.swappiness));
  BERTH_TRY(read_bool(m, "disableOOMKiller", w, out.disable_oom_killer));
  BERTH_TRY(read_bool(m, "useHierarchy", w, out.use_hierarchy));
  BERTH_TRY(read_bool(m, "checkBeforeUpdate", w, out.check_before_update));
  return ok();
}

Status parse_cpu(const Value& c, const std::string& w, Resources::Cpu& out) {
  BERTH_TRY(read_uint(c, "shares", w, out.shares));
  BERTH_TRY(read_int(c, "quota", w, out.quota));
  BERTH_TRY(read_uint(c, "burst", w, out.burst));
  BERTH_TRY(read_uint(c, "period", w, out.period));
  BERTH_TRY(read_int(c, "realtimeRuntime", w, out.realtime_runtime));
  BERTH_TRY(read_uint(c, "realtimePeriod", w, out.realtime_period));
  BERTH_TRY(read_string(c, "cpus", w, out.cpus));
  BERTH_TRY(read_string(c, "mems", w, out.mems));
  BERTH_TRY(read_int(c, "idle", w, out.idle));
  return ok();
}

Status read_major_minor(const Value& e, const std::string& w, int64_t& major, int64_t& minor) {
  std::optional<int64_t> maj, min;
  BERTH_TRY(read_int(e, "major", w, maj));
  BERTH_TRY(read_int(e, "minor", w, min));
  if (!maj || !min) return Error::msg(w + ": major and minor are required");
  major = *maj;
  minor = *min;
  return ok();
}

Status parse_throttle(const Value& b, const char* key, const std::string& w,
                      std::vector<ThrottleDevice>& out) {
  const json::Array* arr = BERTH_TRY(sub_array(b, key, w));
  if (!arr) return ok();
  for (size_t i = 0; i < arr->size(); ++i) {
    std::string p = index_path(w, key, i);
    const Value& e = (*arr)[i];
    if (!e.is_object()) return type_error(p, "object", e);
    ThrottleDevice d;
    BERTH_TRY(read_major_minor(e, p, d.major, d.minor));
    std::optional<uint64_t> rate;
    BERTH_TRY(read_uint(e, "rate", p, rate));
    d.rate = rate.value_or(0);
    out.push_back(d);
  }
  return ok();
}

Status parse_block_io(const Value& b, const std::string& w, Resources::BlockIo& out) {
  BERTH_TRY(read_u16(b, "weight", w, out.weight));
  BERTH_TRY(read_u16(b, "leafWeight", w, out.leaf_weight));
  const json::Array* arr = BERTH_TRY(sub_array(b, "weightDevice", w));
  for (size_t i = 0; arr && i < arr->size(); ++i) {
    std::string p = index_path(w, "weightDevice", i);
    const Value& e = (*arr)[i];
    if (!e.is_object()) return type_error(p, "object", e);
    WeightDevice d;
    BERTH_TRY(read_major_minor(e, p, d.major, d.minor));
    BERTH_TRY(read_u16(e, "weight", p, d.weight));
    BERTH_TRY(read_u16(e, "leafWeight", p, d.leaf_weight));
    out.weight_device.push_back(d);
  }
  BERTH_TRY(parse_throttle(b, "throttleReadBpsDevice", w, out.read_bps));
  BERTH_TRY(parse_throttle(b, "throttleWriteBpsDevice", w, out.write_bps));
  BERTH_TRY(parse_throttle(b, "throttleReadIOPSDevice", w, out.read_iops));
  BERTH_TRY(parse_throttle(b, "throttleWriteIOPSDevice", w, out.write_iops));
  return ok();
}

Status parse_hugepages(const json::Array& arr, const std::string& w,
                       std::vector<HugepageLimit>& out) {
  for (size_t i = 0; i < arr.size(); ++i) {
    std::string p = index_path(w, "hugepageLimits", i);
    const Value& e = arr[i];
    if (!e.is_object()) return type_error(p, "object", e);
    HugepageLimit h;
    BERTH_TRY(read_string(e, "pageSize", p, h.page_size));
    if (h.page_size.empty()) return Error::msg(p + ".pageSize: required");
    std::optional<uint64_t> limit;
    BERTH_TRY(read_uint(e, "limit", p, limit));
    h.limit = limit.value_or(0);
    out.push_back(std::move(h));
  }
  return ok();
}

Status parse_device(const Value& e, const std::string& p, DeviceRule& d) {
  if (!e.is_object()) return type_error(p, "object", e);
  std::optional<bool> allow;
  BERTH_TRY(read_bool(e, "allow", p, allow));
  if (!allow) return Error::msg(p + ".allow: required");
  d.allow = *allow;
  std::string type = "a";
  BERTH_TRY(read_string(e, "type", p, type));
  if (type != "a" && type != "b" && type != "c")
    return Error::msg(p + ".type: expected \"a\", \"b\" or \"c\", got \"" + type + "\"");
  d.type = type[0];
  BERTH_TRY(read_int(e, "major", p, d.major));
  BERTH_TRY(read_int(e, "minor", p, d.minor));
  if (d.major && *d.major < 0) d.major.reset();  // -1 is a wildcard too
  if (d.minor && *d.minor < 0) d.minor.reset();
  const Value* access = e.find("access");
  if (access && !access->is_null()) {
    BERTH_TRY(read_string(e, "access", p, d.access));
    for (char c : d.access)
      if (c != 'r' && c != 'w' && c != 'm')
        return Error::msg(p + ".access: expected letters from \"rwm\", got \"" + d.access + "\"");
    if (d.access.empty()) d.access = "rwm";
  }
  return ok();
}

Status parse_unified(const Value& u, const std::string& w, std::map<std::string, std::string>& out) {
  for (const auto& [key, value] : u.as_object()) {
    if (!value.is_string()) return type_error(w + "[\"" + key + "\"]", "string", value);
    out[key] = value.as_string();
  }
  return ok();
}

}  // namespace

Result<Resources> parse_resources(const json::Value& v, const std::string& where) {
  if (!v.is_object()) return type_error(where, "object", v);
  Resources r;
  // rdma, network (classID/priorities) and hugepage reservations are not
  // applied by berth; unknown keys are ignored as the spec asks.
  if (const Value* m = BERTH_TRY(sub_object(v, "memory", where)))
    BERTH_TRY(parse_memory(*m, where + ".memory", r.memory));
  if (const Value* c = BERTH_TRY(sub_object(v, "cpu", where)))
    BERTH_TRY(parse_cpu(*c, where + ".cpu", r.cpu));
  if (const Value* p = BERTH_TRY(sub_object(v, "pids", where)))
    BERTH_TRY(read_int(*p, "limit", where + ".pids", r.pids.limit));
  if (const Value* b = BERTH_TRY(sub_object(v, "blockIO", where)))
    BERTH_TRY(parse_block_io(*b, where + ".blockIO", r.block_io));
  if (const json::Array* h = BERTH_TRY(sub_array(v, "hugepageLimits", where)))
    BERTH_TRY(parse_hugepages(*h, where, r.hugepage_limits));
  if (const json::Array* d = BERTH_TRY(sub_array(v, "devices", where))) {
    for (size_t i = 0; i < d->size(); ++i) {
      DeviceRule rule;
      BERTH_TRY(parse_device((*d)[i], index_path(where, "devices", i), rule));
      r.devices.push_back(std::move(rule));
    }
  }
  if (const Value* u = BERTH_TRY(sub_object(v, "unified", where)))
    BERTH_TRY(parse_unified(*u, where + ".unified", r.unified));
  return r;
}

namespace {

template <class T>
void overlay(std::optional<T>& base, const std::optional<T>& update) {
  if (update) base = update;
}

template <class T>
void overlay(std::vector<T>& base, const std::vector<T>& update) {
  if (!update.empty()) base = update;
}

void overlay(std::string& base, const std::string& update) {
  if (!update.empty()) base = update;
}

}  // namespace

void merge_resources(Resources& base, const Resources& update) {
  auto& m = base.memory;
  const auto& um = update.memory;
  overlay(m.limit, um.limit);
  overlay(m.reservation, um.reservation);
  overlay(m.swap, um.swap);
  overlay(m.kernel, um.kernel);
  overlay(m.kernel_tcp, um.kernel_tcp);
  overlay(m.swappiness, um.swappiness);
  overlay(m.disable_oom_killer, um.disable_oom_killer);
  overlay(m.use_hierarchy, um.use_hierarchy);
  overlay(m.check_before_update, um.check_before_update);

  auto& c = base.cpu;
  const auto& uc = update.cpu;
  overlay(c.shares, uc.shares);
  overlay(c.period, uc.period);
  overlay(c.burst, uc.burst);
  overlay(c.realtime_period, uc.realtime_period);
  overlay(c.quota, uc.quota);
  overlay(c.realtime_runtime, uc.realtime_runtime);
  overlay(c.idle, uc.idle);
  overlay(c.cpus, uc.cpus);
  overlay(c.mems, uc.mems);

  overlay(base.pids.limit, update.pids.limit);

  auto& b = base.block_io;
  const auto& ub = update.block_io;
  overlay(b.weight, ub.weight);
  overlay(b.leaf_weight, ub.leaf_weight);
  overlay(b.weight_device, ub.weight_device);
  overlay(b.read_bps, ub.read_bps);
  overlay(b.write_bps, ub.write_bps);
  overlay(b.read_iops, ub.read_iops);
  overlay(b.write_iops, ub.write_iops);

  overlay(base.hugepage_limits, update.hugepage_limits);
  overlay(base.devices, update.devices);
  for (const auto& [k, v] : update.unified) base.unified[k] = v;
}

}  // namespace berth::cgroups
