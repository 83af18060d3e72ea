// manager.cpp — network create/remove/list and repair.
#include "berth/net/manager.h"

#include <cctype>
#include <set>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/net/netlink.h"
#include "berth/net/netns.h"
#include "plumb.h"
#include "store.h"

namespace berth::net {
namespace {

// Forwarding is what both modes rely on; set in the namespace the service
// runs in (the node's).
Status enable_forwarding(const Network& n) {
  if (n.v4) BERTH_TRY(write_sysctl("net/ipv4/ip_forward", "1"));
  if (n.v6) BERTH_TRY(write_sysctl("net/ipv6/conf/all/forwarding", "1"));
  return ok();
}

// Proxy ARP/NDP on the uplink answers without the default 0.8 s random
// delay; IPv6 also needs proxy_ndp switched on for the link.
Status setup_uplink(Netlink& nl, const Network& n) {
  if (!nl.link_exists(n.uplink)) return Error(ENODEV, "network " + n.name + ": uplink: " + n.uplink + " does not exist");
  if (n.v4) BERTH_TRY(write_sysctl("net/ipv4/neigh/" + n.uplink + "/proxy_delay", "0"));
  if (n.v6) {
    BERTH_TRY(write_sysctl("net/ipv6/conf/" + n.uplink + "/proxy_ndp", "1"));
    BERTH_TRY(write_sysctl("net/ipv6/neigh/" + n.uplink + "/proxy_delay", "0"));
  }
  return ok();
}

Status setup_bridge(Netlink& nl, const Network& n, bool& created) {
  bool exists = nl.link_exists(n.bridge);
  if (!n.create_bridge) {
    if (!exists) return Error(ENODEV, "network " + n.name + ": bridge: " + n.bridge + " does not exist");
    return ok();
  }
  if (!exists) {
    BERTH_TRY(nl.add_bridge(n.bridge, n.mtu));
    created = true;
  }
  if (n.v4) BERTH_TRY(nl.add_addr(n.bridge, Cidr{n.v4->gateway, n.v4->cidr.prefix}));
  if (n.v6) BERTH_TRY(nl.add_addr(n.bridge, Cidr{n.v6->gateway, n.v6->cidr.prefix}));
  return ok();
}

// True for the names berth gives its own links: prefix + 12 hex digits.
bool is_berth_link(const std::string& name) {
  if (name.size() != 14 || !(name.starts_with(kVethPrefix) || name.starts_with(kIfbPrefix))) return false;
  for (size_t i = 2; i < name.size(); ++i)
    if (!std::isxdigit(static_cast<unsigned char>(name[i]))) return false;
  return true;
}

}  // namespace

Manager::Manager(std::string state_dir) : dir_(std::move(state_dir)) {}

Result<Netlink*> Manager::host() {
  if (!host_) host_ = std::make_unique<Netlink>(BERTH_TRY(Netlink::open()));
  return host_.get();
}

Status Manager::create_network(Network n) {
  apply_defaults(n);
  BERTH_TRY(validate(n));
  UniqueFd lk = BERTH_TRY(store::lock(dir_));
  BERTH_TRY(validate_against(n, BERTH_TRY(store::load_networks(dir_))));
  Netlink& nl = *BERTH_TRY(host());
  bool created = false;
  Defer undo([&] {
    if (created) (void)nl.del_link(n.bridge);
  });
  if (n.mode == Mode::bridged) BERTH_TRY_CTX(setup_bridge(nl, n, created), "create network " + n.name);
  if (!n.uplink.empty()) BERTH_TRY_CTX(setup_uplink(nl, n), "create network " + n.name);
  BERTH_TRY_CTX(enable_forwarding(n), "create network " + n.name);
  BERTH_TRY(store::save_network(dir_, n));
  if (auto st = store::apply_firewall(dir_, false); !st) {
    (void)::unlink(store::network_path(dir_, n.name).c_str());
    return std::move(st).error().wrap("create network " + n.name);
  }
  undo.dismiss();
  return ok();
}

Status Manager::remove_network(const std::string& name) {
  UniqueFd lk = BERTH_TRY(store::lock(dir_));
  Network n = BERTH_TRY_CTX(store::load_network(dir_, name), "remove network " + name);
  LeaseTable t = BERTH_TRY(store::load_leases(dir_, name));
  if (!t.items.empty())
    return Error(EBUSY, "remove network " + name + ": " + std::to_string(t.items.size()) +
                            " container(s) still attached (first: " + t.items.front().container + ")");
  if (n.mode == Mode::bridged && n.create_bridge) {
    Netlink& nl = *BERTH_TRY(host());
    BERTH_TRY_CTX(nl.del_link(n.bridge), "remove network " + name);
  }
  if (::unlink(store::network_path(dir_, name).c_str()) < 0) return Error::os("remove network " + name);
  (void)::unlink(store::leases_path(dir_, name).c_str());
  return store::apply_firewall(dir_, false);
}

Result<std::vector<Network>> Manager::list_networks() const { return store::load_networks(dir_); }
Result<Network> Manager::get_network(const std::string& name) const { return store::load_network(dir_, name); }
Result<LeaseTable> Manager::leases(const std::string& network) const {
  BERTH_TRY(store::load_network(dir_, network));
  return store::load_leases(dir_, network);
}

Status Manager::reconcile_firewall() {
  UniqueFd lk = BERTH_TRY(store::lock(dir_));
  return store::apply_firewall(dir_, true);
}

Result<RepairReport> Manager::repair() {
  UniqueFd lk = BERTH_TRY(store::lock(dir_));
  RepairReport rep;
  Netlink& nl = *BERTH_TRY(host());
  std::set<std::string> known;
  for (NetworkState& ns : BERTH_TRY(store::load_all(dir_))) {
    // After a reboot the stored networks are there but their bridges are
    // not: make them again before any lease is looked at.
    if (ns.network.mode == Mode::bridged && ns.network.create_bridge && !nl.link_exists(ns.network.bridge)) {
      bool created = false;
      BERTH_TRY_CTX(setup_bridge(nl, ns.network, created), "repair network " + ns.network.name);
      BERTH_TRY_CTX(enable_forwarding(ns.network), "repair network " + ns.network.name);
      rep.restored.push_back(ns.network.name + " (bridge " + ns.network.bridge + ")");
    }
    LeaseTable kept;
    for (Attachment& a : ns.leases.items) {
      // A namespace that cannot be opened means the container is gone (its
      // pin was removed or its process exited): the lease is stale.
      if (open_netns(a.netns)) {
        // A crash between storing the lease and making the links leaves a
        // live container without its veth: make them now.
        if (!nl.link_exists(a.host_if)) {
          if (auto st = plumb(nl, ns.network, a); !st) {
            (void)remove_links(nl, ns.network, a);
            rep.released_leases.push_back(ns.network.name + "/" + a.container);
            continue;
          }
          rep.restored.push_back(ns.network.name + "/" + a.container);
        }
        known.insert(a.host_if);
        known.insert(kIfbPrefix + a.host_if.substr(2));
        kept.items.push_back(std::move(a));
        continue;
      }
      if (a.own_netns) (void)remove_netns(a.netns);
      (void)remove_links(nl, ns.network, a);
      rep.released_leases.push_back(ns.network.name + "/" + a.container);
    }
    if (kept.items.size() != ns.leases.items.size()) BERTH_TRY(store::save_leases(dir_, ns.network.name, kept));
  }
  for (const char* prefix : {kVethPrefix, kIfbPrefix})
    for (const std::string& link : BERTH_TRY(nl.links_with_prefix(prefix))) {
      if (!is_berth_link(link) || known.count(link)) continue;
      BERTH_TRY_CTX(nl.del_link(link), "repair");
      rep.removed_links.push_back(link);
    }
  BERTH_TRY_CTX(store::apply_firewall(dir_, true), "repair");
  return rep;
}

}  // namespace berth::net
