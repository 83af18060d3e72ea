// network.h — a named network (mode, subnets, gateways, DNS) and its
// validation; the JSON form kept under <state>/networks/NAME.json.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/net/addr.h"

namespace berth::net {

enum class Mode {
  bridged,  // L2: each container's veth is a port of the node bridge
  routed,   // L3, venet-like: host routes /32 and /128 to each veth, no L2 between containers
};

const char* mode_name(Mode m);

/// One address family's part of a network.
struct Subnet {
  Cidr cidr;        // the pool, host bits clear
  IpAddr gateway;   // bridged: the bridge's address; routed: unused by containers
};

struct Network {
  std::string name;
  Mode mode = Mode::bridged;
  std::string bridge;          // bridged only
  bool create_bridge = true;   // false: the bridge must already exist
  std::string uplink;          // routed only: the node's LAN link that answers ARP/NDP
                               // for the containers' addresses ("" = none)
  std::optional<Subnet> v4, v6;
  std::vector<std::string> dns;      // nameserver addresses
  std::vector<std::string> search;   // resolv.conf search domains
  unsigned mtu = 1500;
  bool nat = true;                   // masquerade traffic leaving the subnets
};

/// A routed container's IPv6 gateway, fe80::1, which the host-side veth owns
/// (it also answers ARP for every IPv4 destination: the container's IPv4
/// default route is on-link).
const IpAddr& routed_gateway6();

/// Longest network name: it is part of file names and nft comments.
constexpr size_t kMaxNetworkName = 64;

/// Checks one network on its own: name, mode fields, CIDRs, gateways in
/// their subnets, DNS addresses, bridge name length. Errors read
/// "network NAME: FIELD: what".
Status validate(const Network& n);

/// Checks `n` against the networks that already exist: unique name, no
/// overlapping subnet, no bridge shared across modes.
Status validate_against(const Network& n, const std::vector<Network>& others);

json::Value to_json(const Network& n);
/// Parses and validates; errors name the field.
Result<Network> network_from_json(const json::Value& v);

/// Fills in what a user may leave out: the gateway (first address of the
/// subnet) and the bridge name ("bb-" + name, if short enough).
void apply_defaults(Network& n);

}  // namespace berth::net
