// fields.cpp — typed JSON field access with errors naming the field.
#include "fields.h"

namespace berth::images::fields {

using json::Value;

Result<Annotations> get_string_map(const Value& v, const std::string& where) {
  BERTH_TRY(expect_object(v, where));
  Annotations out;
  out.reserve(v.as_object().size());
  for (const auto& [k, val] : v.as_object()) out.emplace_back(k, BERTH_TRY(get_string(val, dot(where, k))));
  return out;
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
