// netlink.h — the link, address, route, neighbour and tc verbs berth needs
// (`Links`, an interface so that attach/detach sequences are unit-tested
// with a recording fake), and their implementation on one long-lived
// rtnetlink socket (`Netlink`, libnl-route-3). A socket belongs to the
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

/// One link's counters, as the kernel keeps them (IFLA_STATS64).
struct LinkStats {
  std::string name;
  uint64_t rx_bytes = 0, tx_bytes = 0, rx_packets = 0, tx_packets = 0;
  uint64_t rx_errors = 0, tx_errors = 0, rx_dropped = 0, tx_dropped = 0;
};

/// What a new veth pair looks like.
struct VethSpec {
  std::string host_name;       // stays in the caller's namespace
  std::string peer_name;       // created directly inside peer_netns_fd
  int peer_netns_fd = -1;
  unsigned mtu = 1500;
  std::optional<Mac> peer_mac;
  std::string master;          // bridge to enslave the host end to ("" = none)
};

class Links {
public:
  virtual ~Links() = default;

  /// The interface index of `name`; ENODEV when there is none.
  virtual Result<int> ifindex(const std::string& name) = 0;
  bool link_exists(const std::string& name) { return ifindex(name).ok(); }
  /// Names of all links whose name starts with `prefix`.
  virtual Result<std::vector<std::string>> links_with_prefix(const std::string& prefix) = 0;

  /// A bridge, up, with `mtu`. EEXIST when the name is taken.
  virtual Status add_bridge(const std::string& name, unsigned mtu) = 0;
  /// A veth pair: the host end up (and enslaved to spec.master), the peer
  /// created (down) inside its namespace, both in one request.
  virtual Status add_veth(const VethSpec& spec) = 0;
  /// An ifb device (for shaping a link's ingress), up.
  virtual Status add_ifb(const std::string& name) = 0;
  /// Deletes a link; a missing link is fine.
  virtual Status del_link(const std::string& name) = 0;
  virtual Status set_up(const std::string& name, bool up = true) = 0;

  /// Adds ADDR/PREFIX to a link (by index; the name is for messages),
  /// without duplicate address detection. An address already there is fine.
  virtual Status add_addr(int ifindex, const Cidr& addr, const std::string& ifname) = 0;
  Status add_addr(const std::string& ifname, const Cidr& addr);
  /// The addresses on a link, both families.
  virtual Result<std::vector<Cidr>> addresses(const std::string& ifname) = 0;
  /// A route to `dst` through the link, via `gateway` when given (onlink when
  /// the gateway is not on a connected prefix). Replaces an existing one.
  virtual Status add_route(const Cidr& dst, int ifindex, const std::string& ifname,
                           const std::optional<IpAddr>& gateway, bool onlink) = 0;
  Status add_route(const Cidr& dst, const std::string& ifname, const std::optional<IpAddr>& gateway = {},
                   bool onlink = false);
  /// A proxy neighbour entry: `ifname` answers ARP (IPv4) or neighbour
  /// solicitations (IPv6, with proxy_ndp on) for `addr`. Idempotent.
  virtual Status add_proxy_neigh(const std::string& ifname, const IpAddr& addr) = 0;
  /// Removes one; a missing entry or link is fine.
  virtual Status del_proxy_neigh(const std::string& ifname, const IpAddr& addr) = 0;

  /// Token-bucket shaping of the traffic `ifname` sends (root tbf qdisc);
  /// 0 removes it.
  virtual Status set_egress_rate(const std::string& ifname, uint64_t bytes_per_sec, unsigned mtu) = 0;
  /// Redirects all traffic `ifname` receives to the ifb `ifb` (ingress qdisc
  /// + match-all u32 filter + mirred), where it can be shaped as egress.
  virtual Status redirect_ingress(const std::string& ifname, const std::string& ifb) = 0;

  /// Writes a sysctl of the namespace these links live in
  /// ("net/ipv4/conf/X/proxy_arp").
  virtual Status sysctl(const std::string& key, const std::string& value) = 0;
};

class Netlink final : public Links {
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
  ~Netlink() override;

  using Links::add_addr;
  using Links::add_route;
  Result<int> ifindex(const std::string& name) override;
  Result<std::vector<std::string>> links_with_prefix(const std::string& prefix) override;
  Status add_bridge(const std::string& name, unsigned mtu) override;
  Status add_veth(const VethSpec& spec) override;
  Status add_ifb(const std::string& name) override;
  Status del_link(const std::string& name) override;
  Status set_up(const std::string& name, bool up = true) override;
  Status add_addr(int ifindex, const Cidr& addr, const std::string& ifname) override;
  Result<std::vector<Cidr>> addresses(const std::string& ifname) override;
  Status add_route(const Cidr& dst, int ifindex, const std::string& ifname, const std::optional<IpAddr>& gateway,
                   bool onlink) override;
  Status add_proxy_neigh(const std::string& ifname, const IpAddr& addr) override;
  Status del_proxy_neigh(const std::string& ifname, const IpAddr& addr) override;
  Status set_egress_rate(const std::string& ifname, uint64_t bytes_per_sec, unsigned mtu) override;
  Status redirect_ingress(const std::string& ifname, const std::string& ifb) override;
  /// Only for the caller's own namespace: /proc/sys/net follows the thread
  /// that opens it, not the socket.
  Status sysctl(const std::string& key, const std::string& value) override;

  /// The counters of every link in the socket's namespace but loopback.
  Result<std::vector<LinkStats>> link_stats();

  struct nl_sock* raw() { return sk_; }

private:
  explicit Netlink(struct nl_sock* sk) : sk_(sk) {}
  struct nl_sock* sk_ = nullptr;
};

/// Writes a sysctl of the current network namespace ("net/ipv4/ip_forward").
Status write_sysctl(const std::string& key, const std::string& value);

}  // namespace berth::net
