// cmd_networks.cpp — `berth network create|ls|rm`: the node's networks
// through berthd.
#include <algorithm>
#include <cstdio>

#include "berth/client/format.h"
#include "commands.h"

namespace berth::cli {

using client::field;

namespace {

// CLI flags to the network's JSON fields; dns and search may repeat.
const std::pair<const char*, const char*> kFlags[] = {
    {"--mode", "mode"},         {"--subnet", "subnet4"}, {"--gateway", "gateway4"}, {"--subnet6", "subnet6"},
    {"--gateway6", "gateway6"}, {"--dns", "dns"},        {"--search", "search"},    {"--bridge", "bridge"},
    {"--uplink", "uplink"},     {"--mtu", "mtu"},        {"--nat", "nat"}};

// One flag's value into the network's body.
Status set_flag(json::Value& body, const std::string& key, const std::string& v) {
  if (key == "dns" || key == "search") {
    json::Value* list = body.find(key);
    if (!list) list = &body.set(key, json::Value::array());
    list->push_back(v);
  } else if (key == "mtu") {
    char* end = nullptr;
    unsigned long m = std::strtoul(v.c_str(), &end, 10);
    if (v.empty() || *end) return usage_error("--mtu: expected a number, got \"" + v + "\"");
    body.set("mtu", m);
  } else if (key == "nat") {
    if (v != "yes" && v != "no") return usage_error("--nat: expected yes or no, got \"" + v + "\"");
    body.set("nat", v == "yes");
  } else {
    body.set(key, v);
  }
  return ok();
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
  json::Value body = json::Value::object();
  body.set("name", a[2]);
  for (size_t i = 3; i < a.size(); i += 2) {
    auto f = std::find_if(std::begin(kFlags), std::end(kFlags), [&](const auto& p) { return a[i] == p.first; });
    if (f == std::end(kFlags)) return usage_error("network create: unknown option \"" + a[i] + "\"");
    if (i + 1 >= a.size()) return usage_error(a[i] + ": needs a value");
    BERTH_TRY(set_flag(body, f->second, a[i + 1]));
  }
  json::Value n = BERTH_TRY(c.api.json("POST", "/v1/networks", json::dump(body)));
  std::printf("created network %s (%s %s)\n", a[2].c_str(), field(n, "mode").c_str(),
              field(n, field(n, "subnet4") == "-" ? "subnet6" : "subnet4").c_str());
  return 0;
}

}  // namespace berth::cli
