// network.cpp — network definitions: defaults, validation, JSON.
#include "berth/net/network.h"

#include <cctype>

namespace berth::net {
namespace {

Error field_error(const Network& n, const std::string& field, const std::string& what) {
  return Error::msg("network " + (n.name.empty() ? std::string("\"\"") : n.name) + ": " + field + ": " + what);
}

Status check_subnet(const Network& n, const Subnet& s, const char* field, const char* gw_field, int family) {
  if (s.cidr.addr.family != family)
    return field_error(n, field, std::string("expected an ") + (family == AF_INET ? "IPv4" : "IPv6") + " prefix");
  if (s.cidr.network().addr != s.cidr.addr)
    return field_error(n, field, s.cidr.str() + " has host bits set (did you mean " + s.cidr.network().str() + "?)");
  int min_host_bits = 2;
  if (s.cidr.host_bits() < min_host_bits) return field_error(n, field, s.cidr.str() + " is too small for containers");
  if (!s.cidr.contains(s.gateway)) return field_error(n, gw_field, s.gateway.str() + " is not inside " + s.cidr.str());
  if (s.gateway == s.cidr.addr) return field_error(n, gw_field, "the network address cannot be the gateway");
  return ok();
}

}  // namespace

const char* mode_name(Mode m) { return m == Mode::bridged ? "bridged" : "routed"; }

void apply_defaults(Network& n) {
  for (auto* s : {&n.v4, &n.v6})
    if (*s && s->value().gateway.family == 0) s->value().gateway = *s->value().cidr.at(1);
  if (n.mode == Mode::bridged && n.bridge.empty() && n.name.size() + 3 < 16) n.bridge = "bb-" + n.name;
}

const IpAddr& routed_gateway6() {
  static const IpAddr a = *parse_ip("fe80::1");
  return a;
}

Status validate(const Network& n) {
  if (n.name.empty()) return field_error(n, "name", "must not be empty");
  if (n.name.size() > kMaxNetworkName)
    return field_error(n, "name", "longer than " + std::to_string(kMaxNetworkName) + " bytes");
  for (char c : n.name)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'))
      return field_error(n, "name", "only letters, digits, '-', '_' and '.' are allowed");
  if (n.name[0] == '.') return field_error(n, "name", "must not start with '.'");
  if (!n.v4 && !n.v6) return field_error(n, "subnet", "at least one IPv4 or IPv6 subnet is needed");
  if (n.v4) BERTH_TRY(check_subnet(n, *n.v4, "subnet4", "gateway4", AF_INET));
  if (n.v6) BERTH_TRY(check_subnet(n, *n.v6, "subnet6", "gateway6", AF_INET6));
  if (n.mode == Mode::bridged) {
    if (n.bridge.empty()) return field_error(n, "bridge", "a bridged network needs a bridge name");
    if (auto st = check_ifname(n.bridge); !st) return field_error(n, "bridge", st.error().message());
  } else if (!n.bridge.empty()) {
    return field_error(n, "bridge", "a routed network has no bridge");
  }
  if (!n.uplink.empty()) {
    if (n.mode != Mode::routed) return field_error(n, "uplink", "only a routed network has an uplink");
    if (auto st = check_ifname(n.uplink); !st) return field_error(n, "uplink", st.error().message());
  }
  for (size_t i = 0; i < n.dns.size(); ++i)
    if (auto a = parse_ip(n.dns[i]); !a) return field_error(n, "dns[" + std::to_string(i) + "]", a.error().message());
  for (size_t i = 0; i < n.search.size(); ++i)
    if (n.search[i].empty() || n.search[i].find_first_of(" \t\n") != std::string::npos)
      return field_error(n, "search[" + std::to_string(i) + "]", "not a domain name");
  if (n.mtu < 576 || n.mtu > 65535) return field_error(n, "mtu", std::to_string(n.mtu) + " is outside 576..65535");
  return ok();
}

Status validate_against(const Network& n, const std::vector<Network>& others) {
  for (const Network& o : others) {
    if (o.name == n.name) return field_error(n, "name", "a network with this name already exists");
    if (n.v4 && o.v4 && n.v4->cidr.overlaps(o.v4->cidr))
      return field_error(n, "subnet4", n.v4->cidr.str() + " overlaps " + o.v4->cidr.str() + " of network " + o.name);
    if (n.v6 && o.v6 && n.v6->cidr.overlaps(o.v6->cidr))
      return field_error(n, "subnet6", n.v6->cidr.str() + " overlaps " + o.v6->cidr.str() + " of network " + o.name);
    if (n.mode == Mode::bridged && o.mode == Mode::bridged && n.bridge == o.bridge)
      return field_error(n, "bridge", n.bridge + " already belongs to network " + o.name);
  }
  return ok();
}

json::Value to_json(const Network& n) {
  json::Value v = json::Value::object();
  v.set("name", n.name);
  v.set("mode", mode_name(n.mode));
  if (n.mode == Mode::bridged) {
    v.set("bridge", n.bridge);
    v.set("create_bridge", n.create_bridge);
  }
  if (!n.uplink.empty()) v.set("uplink", n.uplink);
  if (n.v4) {
    v.set("subnet4", n.v4->cidr.str());
    v.set("gateway4", n.v4->gateway.str());
  }
  if (n.v6) {
    v.set("subnet6", n.v6->cidr.str());
    v.set("gateway6", n.v6->gateway.str());
  }
  json::Array dns, search;
  for (auto& d : n.dns) dns.emplace_back(d);
  for (auto& s : n.search) search.emplace_back(s);
  v.set("dns", json::Value(std::move(dns)));
  v.set("search", json::Value(std::move(search)));
  v.set("mtu", n.mtu);
  v.set("nat", n.nat);
  return v;
}

namespace {

Result<std::string> str_field(const Network& n, const json::Value& v, const char* key, bool required) {
  const json::Value* f = v.find(key);
  if (!f) {
    if (required) return field_error(n, key, "missing");
    return std::string();
  }
  if (!f->is_string()) return field_error(n, key, std::string("expected a string, got ") + json::Value::type_name(f->type()));
  return f->as_string();
}

Result<std::vector<std::string>> str_list(const Network& n, const json::Value& v, const char* key) {
  std::vector<std::string> out;
  const json::Value* f = v.find(key);
  if (!f) return out;
  if (!f->is_array()) return field_error(n, key, "expected an array of strings");
  for (size_t i = 0; i < f->as_array().size(); ++i) {
    const json::Value& e = f->as_array()[i];
    if (!e.is_string()) return field_error(n, std::string(key) + "[" + std::to_string(i) + "]", "expected a string");
    out.push_back(e.as_string());
  }
  return out;
}

Result<std::optional<Subnet>> subnet_field(const Network& n, const json::Value& v, const char* key, const char* gw) {
  std::string s = BERTH_TRY(str_field(n, v, key, false));
  if (s.empty()) return std::optional<Subnet>();
  auto c = parse_cidr(s);
  if (!c) return field_error(n, key, c.error().message());
  Subnet sub{*c, {}};
  std::string g = BERTH_TRY(str_field(n, v, gw, false));
  if (!g.empty()) {
    auto a = parse_ip(g);
    if (!a) return field_error(n, gw, a.error().message());
    sub.gateway = *a;
  }
  return std::optional<Subnet>(sub);
}

Result<bool> bool_field(const Network& n, const json::Value& v, const char* key, bool def) {
  const json::Value* f = v.find(key);
  if (!f) return def;
  if (!f->is_bool()) return field_error(n, key, "expected true or false");
  return f->as_bool();
}

}  // namespace

Result<Network> network_from_json(const json::Value& v) {
  Network n;
  if (!v.is_object()) return Error::msg("network: expected a JSON object");
  n.name = BERTH_TRY(str_field(n, v, "name", true));
  std::string mode = BERTH_TRY(str_field(n, v, "mode", false));
  if (mode.empty() || mode == "bridged") n.mode = Mode::bridged;
  else if (mode == "routed") n.mode = Mode::routed;
  else return field_error(n, "mode", "\"" + mode + "\" is not bridged or routed");
  n.bridge = BERTH_TRY(str_field(n, v, "bridge", false));
  n.create_bridge = BERTH_TRY(bool_field(n, v, "create_bridge", true));
  n.uplink = BERTH_TRY(str_field(n, v, "uplink", false));
  n.v4 = BERTH_TRY(subnet_field(n, v, "subnet4", "gateway4"));
  n.v6 = BERTH_TRY(subnet_field(n, v, "subnet6", "gateway6"));
  n.dns = BERTH_TRY(str_list(n, v, "dns"));
  n.search = BERTH_TRY(str_list(n, v, "search"));
  if (const json::Value* m = v.find("mtu")) {
    if (!m->is_uint() || m->as_uint() > 65535) return field_error(n, "mtu", "expected an integer 576..65535");
    n.mtu = static_cast<unsigned>(m->as_uint());
  }
  n.nat = BERTH_TRY(bool_field(n, v, "nat", true));
  apply_defaults(n);
  BERTH_TRY(validate(n));
  return n;
}

}  // namespace berth::net
