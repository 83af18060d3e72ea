// json_fields.h — typed reads of JSON values whose errors name the field's
// path ("process.args[2]: expected string, got number"), for every parser
// of documents berth is handed (config.json, manifests, API bodies).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::json {

/// "where[i]".
std::string idx(const std::string& where, size_t i);
/// "where.key" (or "key" when where is empty).
std::string dot(const std::string& where, std::string_view key);

/// "where: expected EXPECTED, got TYPE".
Error type_error(const std::string& where, const char* expected, const Value& v);

Status expect_object(const Value& v, const std::string& where);
Result<std::string> get_string(const Value& v, const std::string& where);
Result<bool> get_bool(const Value& v, const std::string& where);
Result<int64_t> get_int(const Value& v, const std::string& where);
Result<uint64_t> get_uint(const Value& v, const std::string& where);
/// A non-negative integer that fits 32 bits (ids, sizes of id ranges).
Result<uint32_t> get_u32(const Value& v, const std::string& where);
Result<std::vector<std::string>> get_strings(const Value& v, const std::string& where);
/// The keys of an object whose values are ignored ({"80/tcp": {}}).
Result<std::vector<std::string>> get_keys(const Value& v, const std::string& where);
/// A member that must be present: "where.key: required field is missing".
Result<const Value*> required(const Value& obj, std::string_view key, const std::string& where);

}  // namespace berth::json
