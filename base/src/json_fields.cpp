// json_fields.cpp — typed reads of JSON values.
#include "berth/base/json_fields.h"

namespace berth::json {

std::string idx(const std::string& where, size_t i) { return where + "[" + std::to_string(i) + "]"; }

std::string dot(const std::string& where, std::string_view key) {
  if (where.empty()) return std::string(key);
  return where + "." + std::string(key);
}

Error type_error(const std::string& where, const char* expected, const Value& v) {
  return Error::msg(where + ": expected " + expected + ", got " + Value::type_name(v.type()));
}

Status expect_object(const Value& v, const std::string& where) {
  if (!v.is_object()) return type_error(where, "object", v);
  return ok();
}

Result<std::string> get_string(const Value& v, const std::string& where) {
  if (!v.is_string()) return type_error(where, "string", v);
  return v.as_string();
}

Result<bool> get_bool(const Value& v, const std::string& where) {
  if (!v.is_bool()) return type_error(where, "boolean", v);
  return v.as_bool();
}

Result<int64_t> get_int(const Value& v, const std::string& where) {
  if (!v.is_int()) return type_error(where, "integer", v);
  return v.as_int();
}

Result<uint64_t> get_uint(const Value& v, const std::string& where) {
  if (!v.is_uint()) return type_error(where, "non-negative integer", v);
  return v.as_uint();
}

Result<uint32_t> get_u32(const Value& v, const std::string& where) {
  uint64_t n = BERTH_TRY(get_uint(v, where));
  if (n > UINT32_MAX) return Error::msg(where + ": value " + std::to_string(n) + " out of range");
  return static_cast<uint32_t>(n);
}

Result<std::vector<std::string>> get_strings(const Value& v, const std::string& where) {
  if (!v.is_array()) return type_error(where, "array of strings", v);
  std::vector<std::string> out;
  out.reserve(v.as_array().size());
  for (size_t i = 0; i < v.as_array().size(); ++i) out.push_back(BERTH_TRY(get_string(v.as_array()[i], idx(where, i))));
  return out;
}

Result<std::vector<std::string>> get_keys(const Value& v, const std::string& where) {
  BERTH_TRY(expect_object(v, where));
  std::vector<std::string> out;
  for (const auto& m : v.as_object()) out.push_back(m.first);
  return out;
}

Result<const Value*> required(const Value& obj, std::string_view key, const std::string& where) {
  const Value* v = obj.find(key);
  if (!v) return Error::msg(dot(where, key) + ": required field is missing");
  return v;
}

}  // namespace berth::json
