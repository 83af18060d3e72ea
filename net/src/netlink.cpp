// netlink.cpp — the rtnetlink socket and its verbs, over libnl-route-3.
#include "berth/net/netlink.h"

#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>
#include <net/if.h>
#include <sched.h>

#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/act/mirred.h>
#include <netlink/route/addr.h>
#include <netlink/route/classifier.h>
#include <netlink/route/cls/u32.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/qdisc/tbf.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>

#include <cstring>
#include <memory>

#include "berth/base/fd.h"
#include "berth/base/fs.h"

namespace berth::net {
namespace {

// libnl reports its own error numbers; the common ones map back to errno
// so that callers can test for EEXIST/ENODEV like any other Error.
int errno_of(int nlerr) {
  switch (nlerr < 0 ? -nlerr : nlerr) {
    case NLE_EXIST: return EEXIST;
    case NLE_OBJ_NOTFOUND:
    case NLE_NODEV: return ENODEV;
    case NLE_PERM: return EPERM;
    case NLE_BUSY: return EBUSY;
    case NLE_INVAL: return EINVAL;
    case NLE_NOMEM: return ENOMEM;
    case NLE_RANGE: return ERANGE;
    case NLE_NOADDR: return EADDRNOTAVAIL;
    case NLE_OPNOTSUPP: return EOPNOTSUPP;
    case NLE_AF_NOSUPPORT: return EAFNOSUPPORT;
    default: return 0;
  }
}

Error nl_error(int err, const std::string& what) {
  int e = errno_of(err);
  if (e) return Error(e, what);
  return Error::msg(what + ": " + nl_geterror(err));
}

template <class T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using LinkPtr = std::unique_ptr<rtnl_link, Free<rtnl_link, rtnl_link_put>>;
using AddrPtr = std::unique_ptr<rtnl_addr, Free<rtnl_addr, rtnl_addr_put>>;
using NlAddrPtr = std::unique_ptr<nl_addr, Free<nl_addr, nl_addr_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Free<rtnl_route, rtnl_route_put>>;
using QdiscPtr = std::unique_ptr<rtnl_qdisc, Free<rtnl_qdisc, rtnl_qdisc_put>>;
using ClsPtr = std::unique_ptr<rtnl_cls, Free<rtnl_cls, rtnl_cls_put>>;
using NeighPtr = std::unique_ptr<rtnl_neigh, Free<rtnl_neigh, rtnl_neigh_put>>;
using CachePtr = std::unique_ptr<nl_cache, Free<nl_cache, nl_cache_free>>;

NlAddrPtr make_addr(const IpAddr& a, int prefix) {
  NlAddrPtr p(nl_addr_build(a.family, a.bytes.data(), a.size()));
  if (p) nl_addr_set_prefixlen(p.get(), prefix);
  return p;
}

}  // namespace

Result<Netlink> Netlink::open() {
  nl_sock* sk = nl_socket_alloc();
  if (!sk) return Error(ENOMEM, "allocate netlink socket");
  if (int err = nl_connect(sk, NETLINK_ROUTE); err < 0) {
    nl_socket_free(sk);
    return nl_error(err, "connect rtnetlink socket");
  }
  return Netlink(sk);
}

Result<Netlink> Netlink::open_in(int netns_fd) {
  UniqueFd self(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!self) return Error::os("open /proc/thread-self/ns/net");
  if (::setns(netns_fd, CLONE_NEWNET) < 0) return Error::os("enter network namespace");
  auto nl = open();
  if (::setns(self.get(), CLONE_NEWNET) < 0) {
    // Staying in the container's namespace would misdirect every later
    // call of this thread: there is no safe way on.
    std::abort();
  }
  return nl;
}

Netlink::Netlink(Netlink&& o) noexcept : sk_(std::exchange(o.sk_, nullptr)) {}
Netlink& Netlink::operator=(Netlink&& o) noexcept {
  if (this != &o) {
    if (sk_) nl_socket_free(sk_);
    sk_ = std::exchange(o.sk_, nullptr);
  }
  return *this;
}
Netlink::~Netlink() {
  if (sk_) nl_socket_free(sk_);
}

Result<int> Netlink::ifindex(const std::string& name) {
  rtnl_link* l = nullptr;
  if (int err = rtnl_link_get_kernel(sk_, 0, name.c_str(), &l); err < 0)
    return nl_error(err == -NLE_OBJ_NOTFOUND ? -NLE_NODEV : err, "find link " + name);
  LinkPtr link(l);
  return rtnl_link_get_ifindex(link.get());
}


Result<std::vector<std::string>> Netlink::links_with_prefix(const std::string& prefix) {
  nl_cache* c = nullptr;
  if (int err = rtnl_link_alloc_cache(sk_, AF_UNSPEC, &c); err < 0) return nl_error(err, "list links");
  CachePtr cache(c);
  std::vector<std::string> out;
  for (nl_object* o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
    const char* name = rtnl_link_get_name(reinterpret_cast<rtnl_link*>(o));
    if (name && std::string_view(name).starts_with(prefix)) out.emplace_back(name);
  }
  return out;
}

Result<std::vector<LinkStats>> Netlink::link_stats() {
  nl_cache* c = nullptr;
  if (int err = rtnl_link_alloc_cache(sk_, AF_UNSPEC, &c); err < 0) return nl_error(err, "list links");
  CachePtr cache(c);
  std::vector<LinkStats> out;
  for (nl_object* o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
    auto* l = reinterpret_cast<rtnl_link*>(o);
    const char* name = rtnl_link_get_name(l);
    if (!name || (rtnl_link_get_flags(l) & IFF_LOOPBACK)) continue;
    LinkStats s;
    s.name = name;
    s.rx_bytes = rtnl_link_get_stat(l, RTNL_LINK_RX_BYTES);
    s.tx_bytes = rtnl_link_get_stat(l, RTNL_LINK_TX_BYTES);
    s.rx_packets = rtnl_link_get_stat(l, RTNL_LINK_RX_PACKETS);
    s.tx_packets = rtnl_link_get_stat(l, RTNL_LINK_TX_PACKETS);
    s.rx_errors = rtnl_link_get_stat(l, RTNL_LINK_RX_ERRORS);
    s.tx_errors = rtnl_link_get_stat(l, RTNL_LINK_TX_ERRORS);
    s.rx_dropped = rtnl_link_get_stat(l, RTNL_LINK_RX_DROPPED);
    s.tx_dropped = rtnl_link_get_stat(l, RTNL_LINK_TX_DROPPED);
    out.push_back(std::move(s));
  }
  return out;
}

Status Netlink::add_bridge(const std::string& name, unsigned mtu) {
  LinkPtr link(rtnl_link_alloc());
  rtnl_link_set_name(link.get(), name.c_str());
  if (int err = rtnl_link_set_type(link.get(), "bridge"); err < 0) return nl_error(err, "create bridge " + name);
  rtnl_link_set_mtu(link.get(), mtu);
  rtnl_link_set_flags(link.get(), IFF_UP);
  if (int err = rtnl_link_add(sk_, link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return nl_error(err, "create bridge " + name);
  return ok();
}

Status Netlink::add_veth(const VethSpec& s) {
  std::string what = "create veth " + s.host_name + " (peer " + s.peer_name + ")";
  LinkPtr link(rtnl_link_veth_alloc());
  if (!link) return Error(ENOMEM, what);
  rtnl_link_set_name(link.get(), s.host_name.c_str());
  rtnl_link_set_mtu(link.get(), s.mtu);
  rtnl_link_set_flags(link.get(), IFF_UP);
  if (!s.master.empty()) {
    int master = BERTH_TRY_CTX(ifindex(s.master), what);
    rtnl_link_set_master(link.get(), master);
  }
  LinkPtr peer(rtnl_link_veth_get_peer(link.get()));
  rtnl_link_set_name(peer.get(), s.peer_name.c_str());
  rtnl_link_set_mtu(peer.get(), s.mtu);
  // The peer cannot be created up: the kernel opens it before it knows its
  // own peer (ENOTCONN). It is brought up from inside its namespace.
  if (s.peer_netns_fd >= 0) rtnl_link_set_ns_fd(peer.get(), s.peer_netns_fd);
  if (s.peer_mac) {
    NlAddrPtr mac(nl_addr_build(AF_LLC, s.peer_mac->bytes.data(), 6));
    rtnl_link_set_addr(peer.get(), mac.get());
  }
  if (int err = rtnl_link_add(sk_, link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) return nl_error(err, what);
  return ok();
}

Status Netlink::add_ifb(const std::string& name) {
  LinkPtr link(rtnl_link_alloc());
  rtnl_link_set_name(link.get(), name.c_str());
  if (int err = rtnl_link_set_type(link.get(), "ifb"); err < 0) return nl_error(err, "create ifb " + name);
  rtnl_link_set_flags(link.get(), IFF_UP);
  if (int err = rtnl_link_add(sk_, link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0)
    return nl_error(err, "create ifb " + name);
  return ok();
}

Status Netlink::del_link(const std::string& name) {
  LinkPtr link(rtnl_link_alloc());
  rtnl_link_set_name(link.get(), name.c_str());
  int err = rtnl_link_delete(sk_, link.get());
  if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NODEV) return nl_error(err, "delete link " + name);
  return ok();
}

Status Netlink::set_up(const std::string& name, bool up) {
  // One request: an empty "original" makes libnl send ifindex 0, so the
  // kernel finds the link by the name carried in `change`.
  LinkPtr orig(rtnl_link_alloc());
  LinkPtr change(rtnl_link_alloc());
  rtnl_link_set_name(change.get(), name.c_str());
  if (up) rtnl_link_set_flags(change.get(), IFF_UP);
  else rtnl_link_unset_flags(change.get(), IFF_UP);
  if (int err = rtnl_link_change(sk_, orig.get(), change.get(), 0); err < 0)
    return nl_error(err, std::string(up ? "bring up " : "bring down ") + name);
  return ok();
}

Status Links::add_addr(const std::string& ifname, const Cidr& c) {
  int idx = BERTH_TRY_CTX(ifindex(ifname), "add address " + c.str() + " to " + ifname);
  return add_addr(idx, c, ifname);
}

Status Netlink::add_addr(int idx, const Cidr& c, const std::string& ifname) {
  std::string what = "add address " + c.str() + " to " + ifname;
  AddrPtr a(rtnl_addr_alloc());
  NlAddrPtr local = make_addr(c.addr, c.prefix);
  rtnl_addr_set_ifindex(a.get(), idx);
  rtnl_addr_set_family(a.get(), c.addr.family);
  if (int err = rtnl_addr_set_local(a.get(), local.get()); err < 0) return nl_error(err, what);
  rtnl_addr_set_prefixlen(a.get(), c.prefix);
  // Addresses are handed out by berth's IPAM, so duplicate detection would
  // only delay the container's first packets by a second or more.
  if (c.addr.is_v6()) rtnl_addr_set_flags(a.get(), IFA_F_NODAD);
  int err = rtnl_addr_add(sk_, a.get(), NLM_F_CREATE | NLM_F_REPLACE);
  if (err < 0 && err != -NLE_EXIST) return nl_error(err, what);
  return ok();
}

Result<std::vector<Cidr>> Netlink::addresses(const std::string& ifname) {
  int idx = BERTH_TRY_CTX(ifindex(ifname), "list addresses of " + ifname);
  nl_cache* c = nullptr;
  if (int err = rtnl_addr_alloc_cache(sk_, &c); err < 0) return nl_error(err, "list addresses of " + ifname);
  CachePtr cache(c);
  std::vector<Cidr> out;
  for (nl_object* o = nl_cache_get_first(c); o; o = nl_cache_get_next(o)) {
    auto* a = reinterpret_cast<rtnl_addr*>(o);
    nl_addr* local = rtnl_addr_get_local(a);
    if (rtnl_addr_get_ifindex(a) != idx || !local) continue;
    IpAddr ip;
    ip.family = nl_addr_get_family(local);
    unsigned len = nl_addr_get_len(local);
    if ((ip.family != AF_INET && ip.family != AF_INET6) || len > ip.bytes.size()) continue;
    std::memcpy(ip.bytes.data(), nl_addr_get_binary_addr(local), len);
    out.push_back(Cidr{ip, rtnl_addr_get_prefixlen(a)});
  }
  return out;
}

Status Links::add_route(const Cidr& dst, const std::string& ifname, const std::optional<IpAddr>& gw, bool onlink) {
  int idx = BERTH_TRY_CTX(ifindex(ifname), "add route " + dst.str() + " dev " + ifname);
  return add_route(dst, idx, ifname, gw, onlink);
}

Status Netlink::add_route(const Cidr& dst, int idx, const std::string& ifname, const std::optional<IpAddr>& gw,
                          bool onlink) {
  std::string what = "add route " + dst.str() + " dev " + ifname + (gw ? " via " + gw->str() : "");
  RoutePtr r(rtnl_route_alloc());
  NlAddrPtr d = make_addr(dst.network().addr, dst.prefix);
  rtnl_route_set_family(r.get(), dst.addr.family);
  rtnl_route_set_table(r.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(r.get(), RTPROT_BOOT);
  rtnl_route_set_type(r.get(), RTN_UNICAST);
  rtnl_route_set_scope(r.get(), gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
  if (int err = rtnl_route_set_dst(r.get(), d.get()); err < 0) return nl_error(err, what);
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  rtnl_route_nh_set_ifindex(nh, idx);
  if (gw) {
    NlAddrPtr g = make_addr(*gw, gw->is_v4() ? 32 : 128);
    rtnl_route_nh_set_gateway(nh, g.get());
    if (onlink) rtnl_route_nh_set_flags(nh, RTNH_F_ONLINK);
  }
  rtnl_route_add_nexthop(r.get(), nh);  // the route owns nh from here
  if (int err = rtnl_route_add(sk_, r.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) return nl_error(err, what);
  return ok();
}

namespace {

Result<NeighPtr> proxy_neigh(Netlink& nl, const std::string& ifname, const IpAddr& addr, const std::string& what) {
  int idx = BERTH_TRY_CTX(nl.ifindex(ifname), what);
  NeighPtr n(rtnl_neigh_alloc());
  NlAddrPtr dst = make_addr(addr, addr.is_v4() ? 32 : 128);
  rtnl_neigh_set_ifindex(n.get(), idx);
  if (int err = rtnl_neigh_set_dst(n.get(), dst.get()); err < 0) return nl_error(err, what);
  rtnl_neigh_set_flags(n.get(), NTF_PROXY);
  rtnl_neigh_set_state(n.get(), NUD_PERMANENT);
  return n;
}

}  // namespace

Status Netlink::add_proxy_neigh(const std::string& ifname, const IpAddr& addr) {
  std::string what = "add proxy neighbour " + addr.str() + " on " + ifname;
  NeighPtr n = BERTH_TRY(proxy_neigh(*this, ifname, addr, what));
  if (int err = rtnl_neigh_add(sk_, n.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) return nl_error(err, what);
  return ok();
}

Status Netlink::del_proxy_neigh(const std::string& ifname, const IpAddr& addr) {
  std::string what = "delete proxy neighbour " + addr.str() + " on " + ifname;
  auto n = proxy_neigh(*this, ifname, addr, what);
  if (!n) return n.error().code() == ENODEV ? ok() : Status(std::move(n).error());
  int err = rtnl_neigh_delete(sk_, n->get(), 0);
  if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_NOADDR) return nl_error(err, what);
  return ok();
}

Status Netlink::set_egress_rate(const std::string& ifname, uint64_t rate, unsigned mtu) {
  std::string what = "set rate of " + ifname + " to " + std::to_string(rate) + " bytes/s";
  int idx = BERTH_TRY_CTX(ifindex(ifname), what);
  QdiscPtr q(rtnl_qdisc_alloc());
  rtnl_tc_set_ifindex(TC_CAST(q.get()), idx);
  rtnl_tc_set_parent(TC_CAST(q.get()), TC_H_ROOT);
  rtnl_tc_set_handle(TC_CAST(q.get()), TC_HANDLE(1, 0));
  if (rate == 0) {
    int err = rtnl_qdisc_delete(sk_, q.get());
    if (err < 0 && err != -NLE_OBJ_NOTFOUND && err != -NLE_INVAL) return nl_error(err, what);
    return ok();
  }
  if (rate > INT32_MAX) return Error(ERANGE, what + ": at most 2147483647 bytes/s");
  if (int err = rtnl_tc_set_kind(TC_CAST(q.get()), "tbf"); err < 0) return nl_error(err, what);
  // A bucket of 10 ms of traffic (at least a few full frames) keeps TCP's
  // throughput close to the rate without long bursts above it.
  uint64_t bucket = std::max<uint64_t>(rate / 100, 4 * (mtu + 14));
  rtnl_qdisc_tbf_set_rate(q.get(), static_cast<int>(rate), static_cast<int>(bucket), 0);
  if (int err = rtnl_qdisc_tbf_set_limit_by_latency(q.get(), 50000); err < 0) return nl_error(err, what);
  if (int err = rtnl_qdisc_add(sk_, q.get(), NLM_F_CREATE | NLM_F_REPLACE); err < 0) return nl_error(err, what);
  return ok();
}

Status Netlink::redirect_ingress(const std::string& ifname, const std::string& ifb) {
  std::string what = "redirect ingress of " + ifname + " to " + ifb;
  int idx = BERTH_TRY_CTX(ifindex(ifname), what);
  int ifb_idx = BERTH_TRY_CTX(ifindex(ifb), what);
  QdiscPtr q(rtnl_qdisc_alloc());
  rtnl_tc_set_ifindex(TC_CAST(q.get()), idx);
  rtnl_tc_set_parent(TC_CAST(q.get()), TC_H_INGRESS);
  rtnl_tc_set_handle(TC_CAST(q.get()), TC_HANDLE(0xffff, 0));
  if (int err = rtnl_tc_set_kind(TC_CAST(q.get()), "ingress"); err < 0) return nl_error(err, what);
  if (int err = rtnl_qdisc_add(sk_, q.get(), NLM_F_CREATE); err < 0 && err != -NLE_EXIST) return nl_error(err, what);

  ClsPtr cls(rtnl_cls_alloc());
  rtnl_tc_set_ifindex(TC_CAST(cls.get()), idx);
  rtnl_tc_set_parent(TC_CAST(cls.get()), TC_HANDLE(0xffff, 0));
  // u32 with an empty key matches every packet; it is built into every
  // distribution kernel, where matchall is not always.
  if (int err = rtnl_tc_set_kind(TC_CAST(cls.get()), "u32"); err < 0) return nl_error(err, what);
  rtnl_cls_set_protocol(cls.get(), ETH_P_ALL);
  rtnl_cls_set_prio(cls.get(), 1);
  rtnl_act* act = rtnl_act_alloc();
  rtnl_tc_set_kind(TC_CAST(act), "mirred");
  rtnl_mirred_set_action(act, TCA_EGRESS_REDIR);
  rtnl_mirred_set_policy(act, TC_ACT_STOLEN);
  rtnl_mirred_set_ifindex(act, static_cast<uint32_t>(ifb_idx));
  rtnl_u32_set_cls_terminal(cls.get());
  int err = rtnl_u32_add_key_uint32(cls.get(), 0, 0, 0, 0);
  if (err >= 0) err = rtnl_u32_add_action(cls.get(), act);
  rtnl_act_put(act);  // the classifier holds its own reference
  if (err < 0) return nl_error(err, what);
  if (int e = rtnl_cls_add(sk_, cls.get(), NLM_F_CREATE | NLM_F_EXCL); e < 0) return nl_error(e, what);
  return ok();
}

Status Netlink::sysctl(const std::string& key, const std::string& value) { return write_sysctl(key, value); }

Status write_sysctl(const std::string& key, const std::string& value) {
  auto st = fs::write_file("/proc/sys/" + key, value);
  if (!st) return std::move(st).error().wrap("set sysctl " + key + "=" + value);
  return ok();
}

}  // namespace berth::net
