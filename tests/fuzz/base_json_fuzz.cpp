// base_json_fuzz.cpp — fuzz target for the JSON parser every API request,
// config and image document goes through. What parses must dump to text
// that parses again, and from there round-trips exactly (the first pass
// may normalise: -0 becomes 0); copies and moves must leave no harm.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "berth/base/json.h"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto v = json::parse(text);
  if (!v) {
    if (v.error().message().find("line ") != 0) std::abort();
    return 0;
  }
  std::string once = json::dump(*v);
  auto w = json::parse(once);
  if (!w) std::abort();
  std::string twice = json::dump(*w);
  auto x = json::parse(twice);
  if (!x || json::dump(*x) != twice) std::abort();
  if (json::dump(*x, true).empty()) std::abort();
  json::Value copy = *w;
  copy = std::move(*v);
  if (json::dump(copy) != once) std::abort();
  return 0;
}
