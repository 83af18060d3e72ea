// attach.cpp — attaching a container to a network and detaching it.
#include <algorithm>

#include "berth/base/fs.h"
#include "berth/net/manager.h"
#include "berth/net/netlink.h"
#include "berth/net/netns.h"
#include "plumb.h"
#include "store.h"

namespace berth::net {
namespace {

Status setup_container_side(Links& ctr, const Network& n, const Attachment& a) {
  BERTH_TRY(ctr.set_up("lo"));
  BERTH_TRY(ctr.set_up(a.ifname));
  // The guest's networkd sets what follows from the file berth wrote: an
  // address set here first makes systemd 252's networkd loop on it.
  if (a.guest_config) return ok();
  int idx = BERTH_TRY(ctr.ifindex(a.ifname));
  bool routed = n.mode == Mode::routed;
  // Without the default route (a container's second network), a routed
  // interface still needs its subnet routed through it; a bridged one has
  // it from its address's prefix.
  if (a.ipv4) {
    BERTH_TRY(ctr.add_addr(idx, Cidr{*a.ipv4, routed ? 32 : n.v4->cidr.prefix}, a.ifname));
    Cidr dst = a.default_route ? Cidr{IpAddr{AF_INET, {}}, 0} : n.v4->cidr;
    if (routed) BERTH_TRY(ctr.add_route(dst, idx, a.ifname, std::nullopt, false));
    else if (a.default_route) BERTH_TRY(ctr.add_route(dst, idx, a.ifname, n.v4->gateway, false));
  }
  if (a.ipv6) {
    BERTH_TRY(ctr.add_addr(idx, Cidr{*a.ipv6, routed ? 128 : n.v6->cidr.prefix}, a.ifname));
    IpAddr gw = routed ? routed_gateway6() : n.v6->gateway;
    Cidr dst = a.default_route ? Cidr{IpAddr{AF_INET6, {}}, 0} : n.v6->cidr;
    if (routed || a.default_route) BERTH_TRY(ctr.add_route(dst, idx, a.ifname, gw, routed));
  }
  return ok();
}

Status setup_routed_host_side(Links& host, const Network& n, const Attachment& a) {
  // Reachable from the node's LAN without NAT, as venet does it: the uplink
  // answers ARP/NDP for the container's addresses, the /32 and /128 routes
  // below carry the packets on.
  if (!n.uplink.empty())
    for (const auto& ip : {a.ipv4, a.ipv6})
      if (ip) BERTH_TRY(host.add_proxy_neigh(n.uplink, *ip));
  if (a.ipv4) {
    BERTH_TRY(host.sysctl("net/ipv4/conf/" + a.host_if + "/proxy_arp", "1"));
    // Answer at once: the default 0.8 s random delay is for shared LANs.
    BERTH_TRY(host.sysctl("net/ipv4/neigh/" + a.host_if + "/proxy_delay", "0"));
    BERTH_TRY(host.add_route(Cidr{*a.ipv4, 32}, a.host_if));
  }
  if (a.ipv6) {
    BERTH_TRY(host.add_addr(a.host_if, Cidr{routed_gateway6(), 64}));
    BERTH_TRY(host.add_route(Cidr{*a.ipv6, 128}, a.host_if));
  }
  return ok();
}

Status setup_limits(Links& host, const Network& n, const Attachment& a) {
  // What the host end sends is what the container receives.
  if (a.rate_in) BERTH_TRY(host.set_egress_rate(a.host_if, a.rate_in, n.mtu));
  if (a.rate_out) {
    std::string ifb = kIfbPrefix + a.host_if.substr(2);
    BERTH_TRY(host.add_ifb(ifb));
    BERTH_TRY(host.redirect_ingress(a.host_if, ifb));
    BERTH_TRY(host.set_egress_rate(ifb, a.rate_out, n.mtu));
  }
  return ok();
}

}  // namespace

Status plumb(Netlink& host, const Network& n, const Attachment& a) {
  UniqueFd nsfd = BERTH_TRY(open_netns(a.netns));
  Netlink ctr = BERTH_TRY(Netlink::open_in(nsfd.get()));
  return plumb(host, ctr, nsfd.get(), n, a);
}

Status plumb(Links& host, Links& ctr, int netns_fd, const Network& n, const Attachment& a) {
  std::optional<Mac> mac;
  if (auto m = parse_mac(a.mac)) mac = *m;
  VethSpec spec{a.host_if, a.ifname, netns_fd, n.mtu, mac, n.mode == Mode::bridged ? n.bridge : ""};
  BERTH_TRY(host.add_veth(spec));
  BERTH_TRY_CTX(setup_container_side(ctr, n, a), "in container");
  if (n.mode == Mode::routed) BERTH_TRY(setup_routed_host_side(host, n, a));
  BERTH_TRY(setup_limits(host, n, a));
  return ok();
}

Status remove_links(Links& host, const Network& n, const Attachment& a) {
  if (!n.uplink.empty())
    for (const auto& ip : {a.ipv4, a.ipv6})
      if (ip) BERTH_TRY(host.del_proxy_neigh(n.uplink, *ip));
  BERTH_TRY(host.del_link(a.host_if));  // takes the container's peer with it
  if (a.rate_out == 0) return ok();
  return host.del_link(kIfbPrefix + a.host_if.substr(2));
}

namespace {

Status check_request(const Network& n, const AttachRequest& r) {
  auto bad = [&](const std::string& field, const std::string& what) {
    return Error::msg("network " + n.name + ": " + field + ": " + what);
  };
  if (r.container.empty() || r.container.size() > 255 || r.container.find('/') != std::string::npos ||
      r.container[0] == '.')
    return bad("container", "\"" + r.container + "\" is not a valid container id");
  if (auto st = check_ifname(r.ifname); !st) return bad("ifname", st.error().message());
  if (r.ipv4 && !n.v4) return bad("ipv4", "the network has no IPv4 subnet");
  if (r.ipv6 && !n.v6) return bad("ipv6", "the network has no IPv6 subnet");
  if (r.ipv4 && !r.ipv4->is_v4()) return bad("ipv4", r.ipv4->str() + " is not an IPv4 address");
  if (r.ipv6 && !r.ipv6->is_v6()) return bad("ipv6", r.ipv6->str() + " is not an IPv6 address");
  for (const PortForward& p : r.ports)
    if (p.proto != "tcp" && p.proto != "udp") return bad("ports", "protocol " + p.proto + " is not tcp or udp");
  return ok();
}

Status check_ports_free(const std::vector<NetworkState>& all, const AttachRequest& r) {
  for (const PortForward& p : r.ports)
    for (const NetworkState& ns : all)
      for (const Attachment& a : ns.leases.items)
        for (const PortForward& q : a.ports)
          if (q.proto == p.proto && q.host_port == p.host_port)
            return Error(EADDRINUSE, "network " + r.network + ": ports: " + p.proto + " host port " +
                                         std::to_string(p.host_port) + " already forwards to " + a.container);
  return ok();
}

}  // namespace

Result<Attachment> Manager::attach(const AttachRequest& req) {
  std::string what = "attach " + req.container + " to " + req.network;
  Netlink& host = *BERTH_TRY(this->host());
  UniqueFd lk = BERTH_TRY(store::lock(dir_));
  Network n = BERTH_TRY_CTX(store::load_network(dir_, req.network), what);
  BERTH_TRY(check_request(n, req));
  LeaseTable leases = BERTH_TRY(store::load_leases(dir_, n.name));
  if (leases.find(req.container))
    return Error(EEXIST, what + ": container " + req.container + " is already attached to network " + n.name);
  if (!req.ports.empty()) BERTH_TRY(check_ports_free(BERTH_TRY(store::load_all(dir_)), req));

  Attachment a;
  a.container = req.container;
  a.ifname = req.ifname;
  a.host_if = host_ifname(kVethPrefix, n.name, req.container);
  a.mac = (req.mac ? *req.mac : derived_mac(n.name + "/" + req.container)).str();
  if (n.v4) a.ipv4 = BERTH_TRY(allocate(n, *n.v4, leases, req.ipv4));
  if (n.v6) a.ipv6 = BERTH_TRY(allocate(n, *n.v6, leases, req.ipv6));
  a.ports = req.ports;
  a.rate_in = req.rate_in;
  a.rate_out = req.rate_out;
  a.default_route = req.default_route;
  a.guest_config = req.guest_config;
  if (req.netns.empty()) {
    a.netns = BERTH_TRY_CTX(create_netns(store::netns_dir(dir_), req.container), what);
    a.own_netns = true;
  } else {
    a.netns = req.netns;
  }

  // The lease is on disk before any link exists, so a crash from here on
  // leaves something repair() can find and undo.
  leases.items.push_back(a);
  bool saved = false;
  Defer undo([&] {
    (void)remove_links(host, n, a);
    if (a.own_netns) (void)remove_netns(a.netns);
    if (saved) {
      leases.items.pop_back();
      (void)store::save_leases(dir_, n.name, leases);
    }
  });
  BERTH_TRY(store::save_leases(dir_, n.name, leases));
  saved = true;
  BERTH_TRY_CTX(plumb(host, n, a), what);
  if (!a.ports.empty() || n.mode == Mode::routed) BERTH_TRY_CTX(store::apply_firewall(dir_, false), what);
  undo.dismiss();
  return a;
}

Status Manager::detach(const std::string& network, const std::string& container) {
  std::string what = "detach " + container + " from " + network;
  UniqueFd lk = BERTH_TRY(store::lock(dir_));
  Network n = BERTH_TRY_CTX(store::load_network(dir_, network), what);
  LeaseTable leases = BERTH_TRY(store::load_leases(dir_, network));
  auto it = std::find_if(leases.items.begin(), leases.items.end(),
                         [&](const Attachment& a) { return a.container == container; });
  if (it == leases.items.end()) return ok();
  Attachment a = *it;
  BERTH_TRY_CTX(remove_links(*BERTH_TRY(host()), n, a), what);
  if (a.own_netns) BERTH_TRY_CTX(remove_netns(a.netns), what);
  leases.items.erase(it);
  BERTH_TRY(store::save_leases(dir_, network, leases));
  if (!a.ports.empty() || n.mode == Mode::routed) BERTH_TRY_CTX(store::apply_firewall(dir_, false), what);
  return ok();
}

}  // namespace berth::net

namespace berth::net {

Status Manager::check(const std::string& network, const std::string& container) {
  std::string what = "check " + container + " on " + network;
  BERTH_TRY_CTX(store::load_network(dir_, network), what);
  LeaseTable leases = BERTH_TRY(store::load_leases(dir_, network));
  const Attachment* a = leases.find(container);
  if (!a) return Error(ENOENT, what + ": no lease for " + container);
  Netlink& host = *BERTH_TRY(this->host());
  if (!host.link_exists(a->host_if)) return Error(ENODEV, what + ": host veth " + a->host_if + " is missing");
  UniqueFd nsfd = BERTH_TRY_CTX(open_netns(a->netns), what);
  Netlink ctr = BERTH_TRY_CTX(Netlink::open_in(nsfd.get()), what);
  std::vector<Cidr> have = BERTH_TRY_CTX(ctr.addresses(a->ifname), what + ": in container");
  for (const auto& want : {a->ipv4, a->ipv6}) {
    if (!want) continue;
    bool found = std::any_of(have.begin(), have.end(), [&](const Cidr& c) { return c.addr == *want; });
    if (!found) return Error(EADDRNOTAVAIL, what + ": " + a->ifname + " lacks " + want->str());
  }
  return ok();
}

}  // namespace berth::net
