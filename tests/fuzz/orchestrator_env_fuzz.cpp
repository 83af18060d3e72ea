// orchestrator_env_fuzz.cpp — fuzz target for environment files (and the
// node spec and container records the orchestrator reads from etcd):
// whatever parses must serialise and parse back to the same document.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "berth/cluster/model.h"

using namespace berth::cluster;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto e = environment_from(text)) {
    std::string once = berth::json::dump(to_json(*e));
    auto again = environment_from(once);
    if (!again || berth::json::dump(to_json(*again)) != once) std::abort();
    for (const auto& r : e->roles)
      if (r.count < 0 || r.resources.cpu_milli <= 0 || r.resources.memory_mb <= 0 || !valid_name(r.name)) std::abort();
  }
  if (auto n = node_spec_from(text)) {
    if (!node_spec_from(berth::json::dump(to_json(*n)))) std::abort();
  }
  if (auto c = container_from(text)) {
    if (!container_from(berth::json::dump(to_json(*c)))) std::abort();
  }
  return 0;
}
