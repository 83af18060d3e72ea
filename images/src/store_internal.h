// store_internal.h — names inside the store root shared by store_*.cpp.
#pragma once

#include <string>
#include <string_view>

#include "berth/images/store.h"

namespace berth::images::store_paths {

inline constexpr std::string_view blobs = "blobs/sha256";
inline constexpr std::string_view layers = "layers/sha256";
inline constexpr std::string_view tmp = "tmp";
inline constexpr std::string_view holds = "holds";
inline constexpr std::string_view index = "index.json";
inline constexpr std::string_view layout = "oci-layout";
inline constexpr std::string_view store_lock = "store.lock";
inline constexpr std::string_view index_lock = "index.lock";

}  // namespace berth::images::store_paths

namespace berth::images {

/// Reads and parses index.json (errors name it).
Result<struct Index> read_index_file(const std::string& path);

/// index.json text for `ix` (an OCI index, pretty-printed).
std::string index_to_json(const struct Index& ix);

/// A holder name: [A-Za-z0-9_.-]{1,128}, not starting with '.'.
Status check_holder(std::string_view holder);

}  // namespace berth::images
