// fields.cpp — typed JSON field access with errors naming the field.
#include "fields.h"

namespace berth::images::fields {

using json::Value;

namespace {
Error type_error(const std::string& where, const char* expected, const Value& v) {
  return Error::msg(where + ": expected " + expected + ", got " + Value::type_name(v.type()));
}
}  // namespace

std::string idx(const std::string& where, size_t i) { return where + "[" + std::to_string(i) + "]"; }

std::string dot(const std::string& where, std::string_view key) {
  if (where.empty()) return std::string(key);
  return where + "." + std::string(key);
}

Status expect_object(const Value& v, const std::string& where) {
  if (!v.is_object()) return type_error(where, "object", v);
  return {};
}

Result<std::string> get_string(const Value& v, const std::string& where) {
  if (!v.is_string()) return type_error(where, "string", v);
  return v.as_string();
}

Result<uint64_t> get_uint(const Value& v, const std::string& where) {
  if (!v.is_uint()) return type_error(where, "non-negative integer", v);
  return v.as_uint();
}

Result<std::vector<std::string>> get_strings(const Value& v, const std::string& where) {
  if (!v.is_array()) return type_error(where, "array of strings", v);
  std::vector<std::string> out;
  out.reserve(v.as_array().size());
  for (size_t i = 0; i < v.as_array().size(); ++i)
    out.push_back(BERTH_TRY(get_string(v.as_array()[i], idx(where, i))));
  return out;
}

Result<Annotations> get_string_map(const Value& v, const std::string& where) {
  BERTH_TRY(expect_object(v, where));
  Annotations out;
  out.reserve(v.as_object().size());
  for (const auto& [k, val] : v.as_object()) out.emplace_back(k, BERTH_TRY(get_string(val, dot(where, k))));
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

Status expect_schema2(const Value& doc, const std::string& where) {
  const Value* sv = BERTH_TRY(required(doc, "schemaVersion", where));
  uint64_t n = BERTH_TRY(get_uint(*sv, dot(where, "schemaVersion")));
  if (n != 2)
    return Error::msg(dot(where, "schemaVersion") + ": expected 2, got " + std::to_string(n) +
                      (n == 1 ? " (Docker schema 1 images are not supported)" : ""));
  return {};
}

}  // namespace berth::images::fields
