// manager.h — the network service: named networks, attaching containers to
// them and detaching, and repair after a crash. State lives under one
// directory (default /run/berth/net):
//   networks/NAME.json   network definitions
//   leases/NAME.json     attachments (leases) of each network
//   netns/ID             namespaces berth made for containers (pinned)
//   firewall.nft         the nft script last applied
//   lock                 flock()ed by every call that changes something
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/net/ipam.h"
#include "berth/net/netlink.h"
#include "berth/net/network.h"

namespace berth::net {

/// What a caller asks for when attaching a container.
struct AttachRequest {
  std::string network;
  std::string container;
  std::string netns;                 // "" = berth makes and pins one
  std::string ifname = "eth0";
  std::optional<IpAddr> ipv4, ipv6;  // static addresses; automatic when unset
  std::optional<Mac> mac;
  std::vector<PortForward> ports;
  uint64_t rate_in = 0, rate_out = 0;  // bytes per second into / out of the container
  bool default_route = true;  // false for a container's second and later networks
  bool guest_config = false;  // the guest configures its addresses itself (systemd-networkd)
};

/// What repair() found and fixed.
struct RepairReport {
  std::vector<std::string> removed_links;      // orphan veths/ifbs
  std::vector<std::string> released_leases;    // "network/container"
  std::vector<std::string> restored;           // leases whose links were remade, bridges remade
};

/// Not thread-safe: one manager per thread (calls from several processes
/// are serialised by the state lock).
class Manager {
public:
  explicit Manager(std::string state_dir);

  /// Validates `n` (on its own and against the other networks), creates the
  /// bridge with the gateway addresses (bridged), enables forwarding, stores
  /// the definition and applies the firewall table.
  Status create_network(Network n);
  /// Removes a network without attachments (EBUSY otherwise) and the bridge
  /// berth made for it.
  Status remove_network(const std::string& name);
  Result<std::vector<Network>> list_networks() const;
  Result<Network> get_network(const std::string& name) const;
  Result<LeaseTable> leases(const std::string& network) const;

  /// Leases addresses, creates the veth pair (peer named req.ifname inside
  /// the container's namespace), configures both sides, limits, forwards
  /// and anti-spoofing. On any failure nothing of it is left.
  Result<Attachment> attach(const AttachRequest& req);
  /// Undoes attach(); an unknown container is fine (ENOENT-free, as CNI DEL
  /// wants).
  Status detach(const std::string& network, const std::string& container);

  /// Checks that an attachment is whole: its lease, the host veth, the
  /// container's namespace and interface carrying the leased addresses.
  /// Errors say what is missing.
  Status check(const std::string& network, const std::string& container);

  /// After a crash: releases the leases whose namespace is gone, remakes
  /// the links of leases whose namespace lives but whose veth is missing
  /// (releasing the lease if that fails), deletes berth's links that no
  /// lease names, and re-applies the firewall table. A bridged network
  /// whose bridge is missing (after a reboot) gets it back first.
  Result<RepairReport> repair();

  /// Re-applies the firewall table from the stored state.
  Status reconcile_firewall();

  const std::string& state_dir() const { return dir_; }

private:
  /// The node's netlink socket, opened on first use and kept for the
  /// manager's life (the supervisor keeps one manager).
  Result<Netlink*> host();

  std::string dir_;
  std::unique_ptr<Netlink> host_;
};

/// Prefixes of the links berth makes on the node: host-side veths, ifbs.
constexpr const char* kVethPrefix = "bv";
constexpr const char* kIfbPrefix = "bi";

}  // namespace berth::net
