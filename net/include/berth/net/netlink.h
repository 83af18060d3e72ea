// netlink.h — one long-lived rtnetlink socket (libnl-route-3) and the link,
// address, route, neighbour and tc verbs berth needs. A socket belongs to the
// network namespace it was opened in, so a container's namespace is driven
// through a second socket opened there (open_in()), without moving threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/net/addr.h"

struct nl_sock;

namespace berth::net {

/// What a new veth pair looks like.
struct VethSpec {
  std::string host_name;       // stays in the caller's namespace
  std::string peer_name;       // created directly inside peer_netns_fd
  int peer_netns_fd = -1;
  unsigned mtu = 1500;
  std::optional<Mac> peer_mac;
  std::string master;          // bridge to enslave the host end to ("" = none)
};

class Netlink {
public:
  /// A socket in the calling thread's current network namespace.
  static Result<Netlink> open();
  /// A socket in the namespace `netns_fd` refers to (the thread enters it
  /// just long enough to create the socket, then returns).
  static Result<Netlink> open_in(int netns_fd);

  Netlink(Netlink&& o) noexcept;
  Netlink& operator=(Netlink&& o) noexcept;
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;
  ~Netlink();

  /// The interface index of `name`; ENODEV when there is none.
  Result<int> ifindex(const std::string& name);
  bool link_exists(const std::string& name);
  /// Names of all links whose name starts with `prefix`.
  Result<std::vector<std::string>> links_with_prefix(const std::string& prefix);

  /// A bridge, up, with `mtu`. EEXIST when the name is taken.
  Status add_bridge(const std::string& name, unsigned mtu);
  /// A veth pair: the host end up (and enslaved to spec.master), the peer
  /// created (down) inside its namespace, both in one request.
  Status add_veth(const VethSpec& spec);
  /// An ifb device (for shaping a link's ingress), up.
  Status add_ifb(const std::string& name);
  /// Deletes a link; a missing link is fine.
  Status del_link(const std::string& name);
  Status set_up(const std::string& name, bool up = true);

  /// Adds ADDR/PREFIX to a link, without duplicate address detection.
  /// An address that is already there is fine.
  Status add_addr(const std::string& ifname, const Cidr& addr);
  /// The same for a link whose index the caller knows (saves a lookup).
  Status add_addr(int ifindex, const Cidr& addr, const std::string& ifname);
  /// The addresses on a link, both families.
  Result<std::vector<Cidr>> addresses(const std::string& ifname);
  /// A route to `dst` through `ifname`, via `gateway` when given (onlink
  /// when the gateway is not on a connected prefix). Replaces an existing one.
  Status add_route(const Cidr& dst, const std::string& ifname, const std::optional<IpAddr>& gateway = {},
                   bool onlink = false);
  Status add_route(const Cidr& dst, int ifindex, const std::string& ifname, const std::optional<IpAddr>& gateway,
                   bool onlink);

  /// A proxy neighbour entry: `ifname` answers ARP (IPv4) or neighbour
  /// solicitations (IPv6, with proxy_ndp on) for `addr`. Idempotent.
  Status add_proxy_neigh(const std::string& ifname, const IpAddr& addr);
  /// Removes one; a missing entry or link is fine.
  Status del_proxy_neigh(const std::string& ifname, const IpAddr& addr);

  /// Token-bucket shaping of the traffic `ifname` sends (root tbf qdisc);
  /// 0 removes it.
  Status set_egress_rate(const std::string& ifname, uint64_t bytes_per_sec, unsigned mtu);
  /// Redirects all traffic `ifname` receives to the ifb `ifb` (ingress qdisc
  /// + match-all u32 filter + mirred), where it can be shaped as egress.
  Status redirect_ingress(const std::string& ifname, const std::string& ifb);

  struct nl_sock* raw() { return sk_; }

private:
  explicit Netlink(struct nl_sock* sk) : sk_(sk) {}
  struct nl_sock* sk_ = nullptr;
};

/// Writes a sysctl of the current network namespace ("net/ipv4/ip_forward").
Status write_sysctl(const std::string& key, const std::string& value);

}  // namespace berth::net
