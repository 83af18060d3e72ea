// node_net.h — the node's container networking: berthd's one net::Manager
// (state under <state>/net), networks through the API, each container's
// NET entries (addresses chosen once, kept in its record while it exists),
// the createRuntime hook that attaches a starting container's own network
// namespace before its init runs, the guest's resolv.conf and hosts, and
// the cleanup after a stop or a crash of berthd.
#pragma once

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/net/manager.h"
#include "berth/supervisor/layout.h"
#include "berth/supervisor/record.h"

namespace berth::supervisor {

/// One NET entry of a record: network, addresses (none = not chosen yet).
struct NetEntry {
  std::string network;
  std::vector<std::string> addresses;  // at most one of each family
};
/// The record's NET entries, split (the record checked their syntax):
/// "lan", "lan:198.18.0.2", "lan:198.18.0.2+fd00::2".
std::vector<NetEntry> net_entries(const Record& r);
/// An entry as the record keeps it.
std::string net_entry_str(const NetEntry& e);
/// The interface an entry gets inside: eth0, eth1, ... in record order.
std::string net_ifname(size_t index);
/// ["198.18.0.2", ...]: the record's addresses (what list/status show).
std::vector<std::string> net_addresses(const Record& r);

/// Thread-safe: one lock serialises every use of the manager.
class NodeNet {
public:
  /// `hook_binary` is berth-nethook, run by the runtime as the bundle's
  /// createRuntime hook.
  NodeNet(const Layout& l, std::string hook_binary);

  std::string state_dir() const;  // <state>/net
  std::string pin_dir() const;    // <run>/netns: containers' namespaces, pinned while attached

  /// POST /v1/networks: the body is the network's JSON form (name, mode,
  /// subnet4, gateway4, subnet6, gateway6, dns, search, bridge, uplink, mtu,
  /// nat); unknown fields are refused.
  Result<json::Value> create_network(const json::Value& body);
  /// Every network with the containers whose records name it.
  Result<json::Value> networks(const std::vector<Record>& records);
  /// Refused (EBUSY) while a record names the network.
  Status remove_network(const std::string& name, const std::vector<Record>& records);

  /// Checks r's networking against the node: each network exists and is
  /// named once, each static address is inside its subnet and is not the
  /// gateway's or taken by another container (`others`: every other
  /// record); nameservers are addresses; port forwards are free. Errors
  /// name the field.
  Status check(const Record& r, const std::vector<Record>& others);
  /// check(), then gives each entry without an address the lowest free
  /// one. The caller serialises calls (it holds its registry lock), so two
  /// containers never get the same address.
  Status resolve(Record& r, const std::vector<Record>& others);

  /// Adds the createRuntime hook that attaches the container to its
  /// networks to a bundle's spec (nothing without NET entries); an error
  /// when berth-nethook is missing. With `guest_config` the hook makes the
  /// links only and the guest sets its addresses from its own config.
  Status add_hook(json::Value& spec, const Record& r, bool guest_config = false) const;
  /// Writes /etc/resolv.conf, /etc/hosts, /etc/hostname and (systemd
  /// guests, once) /etc/machine-id into the guest's root (owned by its root
  /// user), without following links the guest planted. A systemd guest
  /// whose networkd is enabled also gets /etc/systemd/network/10-berth-ethN
  /// .network for each network; true then: the guest configures itself.
  Result<bool> write_guest_files(const std::string& rootfs, const Record& r);

  /// Detaches the container from every network it is attached to and
  /// unpins its namespace; its addresses stay in its record.
  Status detach(const std::string& name);
  /// At berthd's start: detaches every container not in `running`, then
  /// the manager's repair (stale leases, orphan links, missing bridges,
  /// the firewall table) and removes pins nobody uses.
  void repair(const std::set<std::string>& running);

private:
  Result<net::Network> network(const std::string& name) const;
  /// check() (choose false) or resolve() (true).
  Status resolve_into(Record& r, const std::vector<Record>& others, bool choose);
  /// r's port forwards: well-formed, on a container with a network, no
  /// node port another container forwards (caller holds mu_).
  Status check_ports(const Record& r, const std::vector<Record>& others);

  Layout l_;
  std::string hook_;
  std::mutex mu_;
  net::Manager mgr_;
};

}  // namespace berth::supervisor
