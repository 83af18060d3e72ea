// ipam.h — address management: a network's attachments (leases) and the
// pure allocator that picks free addresses from its pool. The lease file
// <state>/leases/NETWORK.json is written atomically after every change.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/net/addr.h"
#include "berth/net/network.h"

namespace berth::net {

/// host port -> container port, "tcp" or "udp".
struct PortForward {
  std::string proto;
  uint16_t host_port = 0;
  uint16_t container_port = 0;
  bool operator==(const PortForward&) const = default;
};

/// "tcp:8080:80" or "udp:53:53" (the proto defaults to tcp: "8080:80").
Result<PortForward> parse_port_forward(std::string_view text);

/// One container on one network: its lease and what was made for it.
struct Attachment {
  std::string container;
  std::string netns;         // path of the container's network namespace
  bool own_netns = false;    // berth made the netns (removed on detach)
  std::string ifname = "eth0";
  std::string host_if;       // host-side veth
  std::string mac;
  std::optional<IpAddr> ipv4, ipv6;
  std::vector<PortForward> ports;
  uint64_t rate_in = 0, rate_out = 0;  // bytes per second, 0 = unlimited
  bool default_route = true;  // false: only the network's own subnet is routed through it
  bool guest_config = false;  // true: the guest's own tools set its addresses and routes
                              // (berth writes their config); berth makes the link only
};

json::Value to_json(const Attachment& a);
Result<Attachment> attachment_from_json(const json::Value& v);

/// All attachments of one network.
struct LeaseTable {
  std::vector<Attachment> items;

  const Attachment* find(std::string_view container) const;
  /// Every address in use, both families.
  std::set<IpAddr> used() const;
  /// The owner of `a`, or nullptr.
  const Attachment* owner_of(const IpAddr& a) const;
};

json::Value to_json(const LeaseTable& t);
Result<LeaseTable> lease_table_from_json(const json::Value& v);

/// Picks an address of `subnet` for a new lease: `wanted` if given (it must
/// be inside, not the network, broadcast or gateway address, and free), else
/// the lowest free host address. Errors name the network and say whether
/// the pool is exhausted or the static address is taken (and by whom).
Result<IpAddr> allocate(const Network& n, const Subnet& subnet, const LeaseTable& leases,
                        const std::optional<IpAddr>& wanted);

}  // namespace berth::net
