// net_cni_config_fuzz.cpp — fuzz target for berth-cni's stdin config parser.
// Whatever parses must be a valid network, and building a result for a
// lease in it must not fail.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config.h"

using namespace berth;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = cni::parse_config(text);
  if (auto* e = std::get_if<cni::ConfigError>(&parsed)) {
    if (e->msg.empty() || e->code <= 0) std::abort();
    return 0;
  }
  const cni::Config& c = std::get<cni::Config>(parsed);
  if (!net::validate(c.network)) std::abort();
  net::Attachment a;
  a.container = "fuzz";
  a.host_if = "bv0123456789ab";
  if (c.network.v4) a.ipv4 = c.network.v4->cidr.at(2);
  if (c.network.v6) a.ipv6 = c.network.v6->cidr.at(2);
  json::Value r = cni::make_result(c, c.network, a, "/run/netns/fuzz");
  if (!r.find("ips") || json::dump(r).empty()) std::abort();
  return 0;
}
