// cmd_networks.cpp — `berth network create|ls|rm`: the node's networks
// through berthd.
#include <cstdio>

#include "berth/client/format.h"
#include "commands.h"

namespace berth::cli {

using client::field;

namespace {

// The flags of network create.
const std::vector<flags::Flag>& create_flags() {
  static const std::vector<flags::Flag> kFlags = {
      flags::Flag::text({"mode"}),     flags::Flag::text({"subnet"}),
      flags::Flag::text({"gateway"}),  flags::Flag::text({"subnet6"}),
      flags::Flag::text({"gateway6"}), flags::Flag::text({"dns"}),
      flags::Flag::text({"search"}),   flags::Flag::text({"bridge"}),
      flags::Flag::text({"uplink"}),   flags::Flag::integer({"mtu"}, 0, 65535),
      flags::Flag::text({"nat"})};
  return kFlags;
}

// The network create body: NAME and the flags given, as the network's
// JSON fields; dns and search may repeat.
Result<json::Value> create_body(const Argv& a) {
  flags::Args f = BERTH_TRY(parse_flags(a, 3, create_flags(), "network create"));
  if (!f.positional().empty()) return usage_error("network create: unexpected argument \"" + f.positional()[0] + "\"");
  json::Value body = json::Value::object();
  body.set("name", a[2]);
  for (auto [flag, key] : {std::pair{"mode", "mode"},
                           {"subnet", "subnet4"},
                           {"gateway", "gateway4"},
                           {"subnet6", "subnet6"},
                           {"gateway6", "gateway6"},
                           {"bridge", "bridge"},
                           {"uplink", "uplink"}})
    if (f.has(flag)) body.set(key, f.get(flag));
  for (const char* list : {"dns", "search"})
    if (f.has(list)) {
      json::Value values = json::Value::array();
      for (const auto& v : f.all(list)) values.push_back(v);
      body.set(list, std::move(values));
    }
  if (f.has("mtu")) body.set("mtu", static_cast<uint64_t>(f.integer("mtu", 0)));
  if (f.has("nat")) {
    std::string nat = f.get("nat");
    if (nat != "yes" && nat != "no") return usage_error("--nat: expected yes or no, got \"" + nat + "\"");
    body.set("nat", nat == "yes");
  }
  return body;
}

Result<int> ls(Context& c) {
  json::Value v = BERTH_TRY(c.api.json("GET", "/v1/networks"));
  if (c.json_out) return print_json(v), 0;
  client::Table t({{"NAME", 16}, {"MODE", 8}, {"SUBNET", 20}, {"GATEWAY", 16}, {"BRIDGE", 16}, {"CONTAINERS"}});
  for (const auto& n : v.as_array()) {
    std::string subnet = field(n, "subnet4"), gw = field(n, "gateway4");
    if (subnet == "-") subnet = field(n, "subnet6"), gw = field(n, "gateway6");
    t.row({field(n, "name"), field(n, "mode"), subnet, gw, field(n, "bridge"), client::joined(n, "containers")});
  }
  print(t.str());
  return 0;
}

}  // namespace

Result<int> cmd_network(Context& c, const Argv& a) {
  std::string sub = a.size() >= 2 ? a[1] : "";
  if (sub == "ls" && a.size() == 2) return ls(c);
  if (sub == "rm" && a.size() == 3) {
    BERTH_TRY(c.api.json("DELETE", "/v1/networks/" + a[2]));
    std::printf("removed network %s\n", a[2].c_str());
    return 0;
  }
  if (sub != "create" || a.size() < 3 || a[2].starts_with("-"))
    return usage_error("network: expected create NAME ..., ls or rm NAME");
  json::Value body = BERTH_TRY(create_body(a));
  json::Value n = BERTH_TRY(c.api.json("POST", "/v1/networks", json::dump(body)));
  std::printf("created network %s (%s %s)\n", a[2].c_str(), field(n, "mode").c_str(),
              field(n, field(n, "subnet4") == "-" ? "subnet6" : "subnet4").c_str());
  return 0;
}

}  // namespace berth::cli
