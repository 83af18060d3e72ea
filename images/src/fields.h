// fields.h — typed access to JSON fields whose errors name the field path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/json.h"
#include "berth/base/json_fields.h"
#include "berth/images/descriptor.h"

namespace berth::images::fields {

using json::dot;
using json::expect_object;
using json::get_keys;
using json::get_string;
using json::get_strings;
using json::get_uint;
using json::idx;
using json::required;

/// An object of string values ({"k": "v"}), kept in document order.
Result<Annotations> get_string_map(const json::Value& v, const std::string& where);
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
