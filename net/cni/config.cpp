// config.cpp — CNI config parsing and result building.
#include "config.h"

#include <algorithm>
#include <cctype>
#include <tuple>

namespace berth::cni {
namespace {

using net::parse_cidr;
using net::parse_ip;

ConfigError invalid(const std::string& field, const std::string& what) { return {kInvalidConfig, field + ": " + what}; }

const json::Value* string_member(const json::Value& v, const char* key, std::optional<ConfigError>& err) {
  const json::Value* f = v.find(key);
  if (f && !f->is_string()) err = invalid(key, "expected a string");
  return f && f->is_string() ? f : nullptr;
}

std::optional<ConfigError> parse_subnets(const json::Value& v, net::Network& n) {
  std::optional<ConfigError> err;
  for (auto [key, gwkey, slot] : {std::tuple{"subnet4", "gateway4", &n.v4}, std::tuple{"subnet6", "gateway6", &n.v6}}) {
    const json::Value* s = string_member(v, key, err);
    if (err) return err;
    if (!s) continue;
    auto c = parse_cidr(s->as_string());
    if (!c) return invalid(key, c.error().message());
    *slot = net::Subnet{*c, {}};
    const json::Value* g = string_member(v, gwkey, err);
    if (err) return err;
    if (g) {
      auto a = parse_ip(g->as_string());
      if (!a) return invalid(gwkey, a.error().message());
      (*slot)->gateway = *a;
    }
  }
  return std::nullopt;
}

std::optional<ConfigError> parse_dns(const json::Value& v, net::Network& n) {
  const json::Value* dns = v.find("dns");
  if (!dns) return std::nullopt;
  if (!dns->is_object()) return invalid("dns", "expected an object");
  for (auto [key, out] : {std::pair{"nameservers", &n.dns}, std::pair{"search", &n.search}}) {
    const json::Value* l = dns->find(key);
    if (!l) continue;
    if (!l->is_array()) return invalid(std::string("dns.") + key, "expected an array of strings");
    for (const json::Value& e : l->as_array()) {
      if (!e.is_string()) return invalid(std::string("dns.") + key, "expected an array of strings");
      out->push_back(e.as_string());
    }
  }
  return std::nullopt;
}

std::optional<ConfigError> parse_ports(const json::Value& rc, Config& c) {
  const json::Value* pm = rc.find("portMappings");
  if (!pm) return std::nullopt;
  if (!pm->is_array()) return invalid("runtimeConfig.portMappings", "expected an array");
  for (size_t i = 0; i < pm->as_array().size(); ++i) {
    const json::Value& e = pm->as_array()[i];
    std::string field = "runtimeConfig.portMappings[" + std::to_string(i) + "]";
    if (!e.is_object()) return invalid(field, "expected an object");
    const json::Value* hp = e.find("hostPort");
    const json::Value* cp = e.find("containerPort");
    const json::Value* pr = e.find("protocol");
    if (!hp || !hp->is_uint() || hp->as_uint() == 0 || hp->as_uint() > 65535) return invalid(field + ".hostPort", "expected 1..65535");
    if (!cp || !cp->is_uint() || cp->as_uint() == 0 || cp->as_uint() > 65535)
      return invalid(field + ".containerPort", "expected 1..65535");
    std::string proto = pr && pr->is_string() ? pr->as_string() : "tcp";
    std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (proto != "tcp" && proto != "udp") return invalid(field + ".protocol", "\"" + proto + "\" is not tcp or udp");
    c.ports.push_back({proto, static_cast<uint16_t>(hp->as_uint()), static_cast<uint16_t>(cp->as_uint())});
  }
  return std::nullopt;
}

std::optional<ConfigError> parse_runtime_config(const json::Value& v, Config& c) {
  const json::Value* rc = v.find("runtimeConfig");
  if (!rc) return std::nullopt;
  if (!rc->is_object()) return invalid("runtimeConfig", "expected an object");
  if (auto e = parse_ports(*rc, c)) return e;
  if (const json::Value* bw = rc->find("bandwidth")) {
    if (!bw->is_object()) return invalid("runtimeConfig.bandwidth", "expected an object");
    // CNI gives rates in bits per second.
    for (auto [key, out] : {std::pair{"ingressRate", &c.rate_in}, std::pair{"egressRate", &c.rate_out}}) {
      const json::Value* r = bw->find(key);
      if (!r) continue;
      if (!r->is_uint()) return invalid(std::string("runtimeConfig.bandwidth.") + key, "expected bits per second");
      *out = r->as_uint() / 8;
    }
  }
  if (const json::Value* mac = rc->find("mac")) {
    if (!mac->is_string()) return invalid("runtimeConfig.mac", "expected a string");
    auto m = net::parse_mac(mac->as_string());
    if (!m) return invalid("runtimeConfig.mac", m.error().message());
    c.mac = *m;
  }
  if (const json::Value* ips = rc->find("ips")) {
    if (!ips->is_array()) return invalid("runtimeConfig.ips", "expected an array");
    for (const json::Value& e : ips->as_array()) {
      if (!e.is_string()) return invalid("runtimeConfig.ips", "expected an array of strings");
      auto cidr = parse_cidr(e.as_string(), false);
      if (!cidr) return invalid("runtimeConfig.ips", cidr.error().message());
      c.ips.push_back(cidr->addr);
    }
  }
  return std::nullopt;
}

}  // namespace

const std::vector<std::string>& supported_versions() {
  static const std::vector<std::string> v = {"0.4.0", "1.0.0"};
  return v;
}

std::variant<Config, ConfigError> parse_config(std::string_view text) {
  auto doc = json::parse(text);
  if (!doc) return ConfigError{kDecodeFailure, "network config: " + doc.error().message()};
  const json::Value& v = *doc;
  if (!v.is_object()) return ConfigError{kDecodeFailure, "network config: expected a JSON object"};
  Config c;
  std::optional<ConfigError> err;
  const json::Value* ver = string_member(v, "cniVersion", err);
  if (err) return *err;
  if (!ver) return invalid("cniVersion", "missing");
  c.cni_version = ver->as_string();
  const auto& sv = supported_versions();
  if (std::find(sv.begin(), sv.end(), c.cni_version) == sv.end())
    return ConfigError{kIncompatibleVersion, "cniVersion: " + c.cni_version + " is not supported (0.4.0, 1.0.0)"};
  const json::Value* name = string_member(v, "name", err);
  if (err) return *err;
  if (!name) return invalid("name", "missing");
  c.network.name = name->as_string();
  const json::Value* mode = string_member(v, "mode", err);
  if (err) return *err;
  if (mode && mode->as_string() == "routed") c.network.mode = net::Mode::routed;
  else if (mode && mode->as_string() != "bridged") return invalid("mode", "\"" + mode->as_string() + "\" is not bridged or routed");
  if (const json::Value* br = string_member(v, "bridge", err)) c.network.bridge = br->as_string();
  if (err) return *err;
  if (auto e = parse_subnets(v, c.network)) return *e;
  if (auto e = parse_dns(v, c.network)) return *e;
  if (const json::Value* mtu = v.find("mtu")) {
    if (!mtu->is_uint() || mtu->as_uint() > 65535) return invalid("mtu", "expected an integer 576..65535");
    c.network.mtu = static_cast<unsigned>(mtu->as_uint());
  }
  if (const json::Value* nat = v.find("ipMasq")) {
    if (!nat->is_bool()) return invalid("ipMasq", "expected true or false");
    c.network.nat = nat->as_bool();
  }
  c.state_dir = "/run/berth/cni";
  if (const json::Value* sd = string_member(v, "stateDir", err)) c.state_dir = sd->as_string();
  if (err) return *err;
  if (auto e = parse_runtime_config(v, c)) return *e;
  if (const json::Value* prev = v.find("prevResult")) {
    if (!prev->is_object()) return invalid("prevResult", "expected an object");
    c.prev_result = *prev;
  }
  net::apply_defaults(c.network);
  if (auto st = net::validate(c.network); !st) return ConfigError{kInvalidConfig, st.error().message()};
  return c;
}

json::Value make_result(const Config& c, const net::Network& n, const net::Attachment& a, const std::string& sandbox) {
  json::Value r = json::Value::object();
  r.set("cniVersion", c.cni_version);
  json::Array ifaces;
  auto iface = [](const std::string& name, const std::string& mac, const std::string& sb) {
    json::Value i = json::Value::object();
    i.set("name", name);
    if (!mac.empty()) i.set("mac", mac);
    if (!sb.empty()) i.set("sandbox", sb);
    return i;
  };
  if (n.mode == net::Mode::bridged) ifaces.push_back(iface(n.bridge, "", ""));
  ifaces.push_back(iface(a.host_if, "", ""));
  ifaces.push_back(iface(a.ifname, a.mac, sandbox));
  int ctr_index = static_cast<int>(ifaces.size()) - 1;
  r.set("interfaces", json::Value(std::move(ifaces)));
  json::Array ips, routes;
  bool routed = n.mode == net::Mode::routed;
  auto add = [&](const net::IpAddr& ip, const net::Subnet& s, const char* deflt) {
    json::Value e = json::Value::object();
    if (c.cni_version == "0.4.0") e.set("version", ip.is_v4() ? "4" : "6");
    e.set("address", net::Cidr{ip, routed ? (ip.is_v4() ? 32 : 128) : s.cidr.prefix}.str());
    std::string gw = routed ? (ip.is_v4() ? "" : "fe80::1") : s.gateway.str();
    if (!gw.empty()) e.set("gateway", gw);
    e.set("interface", ctr_index);
    ips.push_back(std::move(e));
    json::Value rt = json::Value::object();
    rt.set("dst", deflt);
    if (!gw.empty()) rt.set("gw", gw);
    routes.push_back(std::move(rt));
  };
  if (a.ipv4) add(*a.ipv4, *n.v4, "0.0.0.0/0");
  if (a.ipv6) add(*a.ipv6, *n.v6, "::/0");
  r.set("ips", json::Value(std::move(ips)));
  r.set("routes", json::Value(std::move(routes)));
  json::Value dns = json::Value::object();
  json::Array ns, search;
  for (const auto& d : n.dns) ns.emplace_back(d);
  for (const auto& s : n.search) search.emplace_back(s);
  if (!ns.empty()) dns.set("nameservers", json::Value(std::move(ns)));
  if (!search.empty()) dns.set("search", json::Value(std::move(search)));
  r.set("dns", std::move(dns));
  return r;
}

std::string error_json(const std::string& version, int code, const std::string& msg, const std::string& details) {
  json::Value e = json::Value::object();
  e.set("cniVersion", version.empty() ? "1.0.0" : version);
  e.set("code", code);
  e.set("msg", msg);
  if (!details.empty()) e.set("details", details);
  return json::dump(e) + "\n";
}

}  // namespace berth::cni
