// ipam.cpp — leases and the address allocator.
#include "berth/net/ipam.h"

#include <charconv>

namespace berth::net {

Result<PortForward> parse_port_forward(std::string_view text) {
  PortForward p{"tcp", 0, 0};
  std::string_view rest = text;
  auto bad = [&](const char* why) {
    return Error::msg("port forward \"" + std::string(text) + "\": " + why + " (expected [tcp|udp:]HOSTPORT:PORT)");
  };
  if (rest.starts_with("tcp:") || rest.starts_with("udp:")) {
    p.proto = std::string(rest.substr(0, 3));
    rest.remove_prefix(4);
  }
  auto colon = rest.find(':');
  if (colon == std::string_view::npos) return bad("missing ':'");
  auto num = [](std::string_view s, uint16_t& out) {
    unsigned v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || ptr != s.data() + s.size() || v == 0 || v > 65535) return false;
    out = static_cast<uint16_t>(v);
    return true;
  };
  if (!num(rest.substr(0, colon), p.host_port)) return bad("bad host port");
  if (!num(rest.substr(colon + 1), p.container_port)) return bad("bad container port");
  return p;
}

json::Value to_json(const Attachment& a) {
  json::Value v = json::Value::object();
  v.set("container", a.container);
  v.set("netns", a.netns);
  v.set("own_netns", a.own_netns);
  v.set("ifname", a.ifname);
  v.set("host_if", a.host_if);
  v.set("mac", a.mac);
  if (a.ipv4) v.set("ipv4", a.ipv4->str());
  if (a.ipv6) v.set("ipv6", a.ipv6->str());
  json::Array ports;
  for (const PortForward& p : a.ports) {
    json::Value pv = json::Value::object();
    pv.set("proto", p.proto);
    pv.set("host_port", p.host_port);
    pv.set("container_port", p.container_port);
    ports.push_back(std::move(pv));
  }
  v.set("ports", json::Value(std::move(ports)));
  v.set("rate_in", a.rate_in);
  v.set("rate_out", a.rate_out);
  if (!a.default_route) v.set("default_route", false);
  if (a.guest_config) v.set("guest_config", true);
  return v;
}

namespace {

Result<std::string> get_str(const json::Value& v, const char* key, const std::string& ctx) {
  const json::Value* f = v.find(key);
  if (!f) return std::string();
  if (!f->is_string()) return Error::msg(ctx + "." + key + ": expected a string");
  return f->as_string();
}

Result<uint64_t> get_uint(const json::Value& v, const char* key, const std::string& ctx) {
  const json::Value* f = v.find(key);
  if (!f) return uint64_t{0};
  if (!f->is_uint()) return Error::msg(ctx + "." + key + ": expected a non-negative integer");
  return f->as_uint();
}

Result<std::optional<IpAddr>> get_ip(const json::Value& v, const char* key, const std::string& ctx) {
  std::string s = BERTH_TRY(get_str(v, key, ctx));
  if (s.empty()) return std::optional<IpAddr>();
  auto a = parse_ip(s);
  if (!a) return a.error().wrap(ctx + "." + key);
  return std::optional<IpAddr>(*a);
}

}  // namespace

Result<Attachment> attachment_from_json(const json::Value& v) {
  if (!v.is_object()) return Error::msg("attachment: expected an object");
  Attachment a;
  a.container = BERTH_TRY(get_str(v, "container", "attachment"));
  if (a.container.empty()) return Error::msg("attachment.container: missing");
  std::string ctx = "attachment " + a.container;
  a.netns = BERTH_TRY(get_str(v, "netns", ctx));
  if (const json::Value* f = v.find("own_netns"); f && f->is_bool()) a.own_netns = f->as_bool();
  if (const json::Value* f = v.find("default_route"); f && f->is_bool()) a.default_route = f->as_bool();
  if (const json::Value* f = v.find("guest_config"); f && f->is_bool()) a.guest_config = f->as_bool();
  a.ifname = BERTH_TRY(get_str(v, "ifname", ctx));
  a.host_if = BERTH_TRY(get_str(v, "host_if", ctx));
  a.mac = BERTH_TRY(get_str(v, "mac", ctx));
  a.ipv4 = BERTH_TRY(get_ip(v, "ipv4", ctx));
  a.ipv6 = BERTH_TRY(get_ip(v, "ipv6", ctx));
  if (const json::Value* ports = v.find("ports"); ports && ports->is_array()) {
    for (const json::Value& pv : ports->as_array()) {
      PortForward p;
      p.proto = BERTH_TRY(get_str(pv, "proto", ctx + ".ports"));
      p.host_port = static_cast<uint16_t>(BERTH_TRY(get_uint(pv, "host_port", ctx + ".ports")));
      p.container_port = static_cast<uint16_t>(BERTH_TRY(get_uint(pv, "container_port", ctx + ".ports")));
      a.ports.push_back(p);
    }
  }
  a.rate_in = BERTH_TRY(get_uint(v, "rate_in", ctx));
  a.rate_out = BERTH_TRY(get_uint(v, "rate_out", ctx));
  return a;
}

const Attachment* LeaseTable::find(std::string_view container) const {
  for (const Attachment& a : items)
    if (a.container == container) return &a;
  return nullptr;
}

std::set<IpAddr> LeaseTable::used() const {
  std::set<IpAddr> s;
  for (const Attachment& a : items) {
    if (a.ipv4) s.insert(*a.ipv4);
    if (a.ipv6) s.insert(*a.ipv6);
  }
  return s;
}

const Attachment* LeaseTable::owner_of(const IpAddr& ip) const {
  for (const Attachment& a : items)
    if ((a.ipv4 && *a.ipv4 == ip) || (a.ipv6 && *a.ipv6 == ip)) return &a;
  return nullptr;
}

json::Value to_json(const LeaseTable& t) {
  json::Array arr;
  for (const Attachment& a : t.items) arr.push_back(to_json(a));
  json::Value v = json::Value::object();
  v.set("attachments", json::Value(std::move(arr)));
  return v;
}

Result<LeaseTable> lease_table_from_json(const json::Value& v) {
  LeaseTable t;
  const json::Value* arr = v.find("attachments");
  if (!arr || !arr->is_array()) return Error::msg("leases: attachments: expected an array");
  for (const json::Value& e : arr->as_array()) t.items.push_back(BERTH_TRY(attachment_from_json(e)));
  return t;
}

Result<IpAddr> allocate(const Network& n, const Subnet& s, const LeaseTable& leases,
                        const std::optional<IpAddr>& wanted) {
  const char* fam = s.cidr.addr.is_v4() ? "ipv4" : "ipv6";
  auto err = [&](const std::string& what) { return Error::msg("network " + n.name + ": " + fam + ": " + what); };
  std::optional<IpAddr> broadcast;
  if (s.cidr.addr.is_v4() && s.cidr.host_bits() < 64)
    broadcast = s.cidr.at((uint64_t{1} << s.cidr.host_bits()) - 1);
  auto reserved = [&](const IpAddr& a) { return a == s.cidr.addr || a == s.gateway || (broadcast && a == *broadcast); };
  if (wanted) {
    if (!s.cidr.contains(*wanted)) return err(wanted->str() + " is not inside " + s.cidr.str());
    if (reserved(*wanted)) return err(wanted->str() + " is the network, broadcast or gateway address");
    if (const Attachment* o = leases.owner_of(*wanted))
      return Error(EADDRINUSE, "network " + n.name + ": " + fam + ": " + wanted->str() + " is already leased to " + o->container);
    return *wanted;
  }
  std::set<IpAddr> used = leases.used();
  uint64_t limit = s.cidr.host_bits() >= 64 ? UINT64_MAX : (uint64_t{1} << s.cidr.host_bits());
  // Leases are few next to a pool; scanning from the bottom keeps addresses
  // dense and needs no cursor on disk.
  for (uint64_t off = 1; off < limit; ++off) {
    auto a = s.cidr.at(off);
    if (!a) break;
    if (reserved(*a) || used.count(*a)) continue;
    return *a;
  }
  return Error(ENOSPC, "network " + n.name + ": " + fam + ": address pool " + s.cidr.str() + " is exhausted (" +
                           std::to_string(leases.items.size()) + " leases)");
}

}  // namespace berth::net
