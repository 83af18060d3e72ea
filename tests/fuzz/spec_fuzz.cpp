// spec_fuzz.cpp — fuzz target for the config.json parser (JSON model,
// spec validation, mount options, resources).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "berth/runtime/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto spec = berth::runtime::parse_spec(text, "/bundle");
  if (spec) {
    // A config that parses must also survive a round trip through the writer.
    auto doc = berth::json::parse(text);
    if (doc) (void)berth::json::parse(berth::json::dump(*doc));
  }
  return 0;
}
