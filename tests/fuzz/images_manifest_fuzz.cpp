// images_manifest_fuzz.cpp — fuzz target for the image manifest, index and
// config parsers and platform selection.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "berth/images/manifest.h"

using namespace berth::images;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)detect_kind(text);
  if (auto m = parse_manifest(text)) {
    (void)check_image_manifest(*m);
    // Whatever parses must serialise to something that parses again.
    if (!parse_descriptor(descriptor_to_json(m->config), "config")) std::abort();
    for (const auto& l : m->layers)
      if (!parse_descriptor(descriptor_to_json(l), "layer")) std::abort();
  }
  if (auto ix = parse_index(text)) {
    (void)select_platform(*ix, host_platform());
    (void)select_platform(*ix, Platform{"linux", "arm", "v6"});
  }
  if (auto c = parse_config(text)) (void)normalize_platform(c->platform);
  return 0;
}
