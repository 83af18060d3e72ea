// fields.h — typed access to JSON fields whose errors name the field path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/json.h"
#include "berth/images/descriptor.h"

namespace berth::images::fields {

/// "where[i]".
std::string idx(const std::string& where, size_t i);
/// "where.key" (or "key" when where is empty).
std::string dot(const std::string& where, std::string_view key);

Status expect_object(const json::Value& v, const std::string& where);
Result<std::string> get_string(const json::Value& v, const std::string& where);
Result<uint64_t> get_uint(const json::Value& v, const std::string& where);
Result<std::vector<std::string>> get_strings(const json::Value& v, const std::string& where);
/// An object of string values ({"k": "v"}), kept in document order.
Result<Annotations> get_string_map(const json::Value& v, const std::string& where);
/// The keys of an object whose values are ignored ({"80/tcp": {}}).
Result<std::vector<std::string>> get_keys(const json::Value& v, const std::string& where);

/// A member that must be present.
Result<const json::Value*> required(const json::Value& obj, std::string_view key, const std::string& where);

/// Checks "schemaVersion": 2.
Status expect_schema2(const json::Value& doc, const std::string& where);

}  // namespace berth::images::fields

namespace berth::images {
/// A document's mediaType reconciled with the type it was served as
/// (`content_type`, parameters ignored): they must agree when both are
/// present; `fallback` when neither is.
Result<std::string> document_media_type(const json::Value& doc, std::string_view content_type,
                                        std::string_view fallback);
}  // namespace berth::images
