// images_reference_fuzz.cpp — fuzz target for image reference and
// WWW-Authenticate parsing. The first byte picks the parser; whatever
// parses must survive a round trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "berth/images/reference.h"
#include "berth/images/registry.h"

using namespace berth::images;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    auto r = parse_reference(text);
    if (!r) return 0;
    // The canonical form parses back to itself.
    auto again = parse_reference(r->str());
    if (!again || again->str() != r->str()) std::abort();
    if (r->manifest_ref().empty()) std::abort();
  } else {
    auto c = parse_www_authenticate(text);
    if (!c) return 0;
    if (c->empty()) std::abort();
    for (const auto& ch : *c) {
      if (ch.scheme.empty()) std::abort();
      for (const auto& [k, v] : ch.params)
        if (k.empty() || ch.param(k) == nullptr) std::abort();
    }
    (void)parse_retry_after(text);
    (void)parse_credentials(text);
  }
  return 0;
}
