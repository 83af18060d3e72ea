// node_net.cpp — the node's container networking (see node_net.h): networks
// through berthd's one net::Manager, addresses chosen once per record,
// the createRuntime hook, guest files, detach and repair.
#include "berth/supervisor/node_net.h"

#include <fcntl.h>
#include <net/if.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/net/container_files.h"
#include "berth/net/ipam.h"
#include "berth/net/netns.h"
#include "guest_files.h"

namespace berth::supervisor {

namespace {

Error field_error(const std::string& field, const std::string& what) { return Error::msg(field + ": " + what); }

// Addresses of `network` that other containers hold: their records (kept
// while they are stopped) and live leases of containers berthd does not
// know (berth-net on the same state, say).
net::LeaseTable taken(const std::string& network, const std::string& self, const std::vector<Record>& others,
                      const net::LeaseTable& live) {
  net::LeaseTable t;
  for (const Record& o : others) {
    if (o.name == self) continue;
    for (const NetEntry& e : net_entries(o)) {
      if (e.network != network || e.addresses.empty()) continue;
      net::Attachment a;
      a.container = o.name;
      for (const std::string& s : e.addresses)
        if (auto ip = net::parse_ip(s)) (ip->is_v4() ? a.ipv4 : a.ipv6) = *ip;
      t.items.push_back(std::move(a));
    }
  }
  for (const net::Attachment& a : live.items)
    if (a.container != self) t.items.push_back(a);
  return t;
}

}  // namespace

std::vector<NetEntry> net_entries(const Record& r) {
  std::vector<NetEntry> out;
  for (const std::string& s : r.nets) {
    size_t colon = s.find(':');
    NetEntry e{s.substr(0, colon), {}};
    if (colon != std::string::npos) {
      std::string a = s.substr(colon + 1);
      size_t plus = a.find('+');
      e.addresses.push_back(a.substr(0, plus));
      if (plus != std::string::npos) e.addresses.push_back(a.substr(plus + 1));
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string net_entry_str(const NetEntry& e) {
  std::string s = e.network;
  for (size_t i = 0; i < e.addresses.size(); ++i) s += (i ? "+" : ":") + e.addresses[i];
  return s;
}

std::string net_ifname(size_t index) { return "eth" + std::to_string(index); }

std::vector<std::string> net_addresses(const Record& r) {
  std::vector<std::string> a;
  for (const NetEntry& e : net_entries(r)) a.insert(a.end(), e.addresses.begin(), e.addresses.end());
  return a;
}

NodeNet::NodeNet(const Layout& l, std::string hook_binary)
    : l_(l), hook_(std::move(hook_binary)), mgr_(fs::join(l.state_dir, "net")) {}

std::string NodeNet::state_dir() const { return fs::join(l_.state_dir, "net"); }
std::string NodeNet::pin_dir() const { return fs::join(l_.run_dir, "netns"); }

Result<net::Network> NodeNet::network(const std::string& name) const {
  auto n = mgr_.get_network(name);
  if (!n && n.error().code() == ENOENT) return Error(ENOENT, "no network " + name);
  return n;
}

Result<json::Value> NodeNet::create_network(const json::Value& body) {
  static const char* known[] = {"name", "mode",   "subnet4", "gateway4", "subnet6", "gateway6",
                                "dns",  "search", "bridge",  "uplink",   "mtu",     "nat"};
  if (!body.is_object()) return Error::msg("body: expected the network's settings");
  for (const auto& field : body.as_object()) {
    const std::string& k = field.first;  // a name, not a binding: the lambda captures it
    if (std::find_if(std::begin(known), std::end(known), [&](const char* w) { return k == w; }) == std::end(known))
      return field_error(k, "unknown field");
  }
  const json::Value* name = body.find("name");
  if (!name || !name->is_string() || name->as_string().empty()) return field_error("name", "missing");
  if (!body.find("subnet4") && !body.find("subnet6")) return field_error("subnet", "a network needs a subnet");
  net::Network n = BERTH_TRY(net::network_from_json(body));
  std::lock_guard lock(mu_);
  if (mgr_.get_network(n.name)) return Error(EEXIST, "network " + n.name + " already exists");
  BERTH_TRY(mgr_.create_network(n));
  return net::to_json(BERTH_TRY(mgr_.get_network(n.name)));
}

Result<json::Value> NodeNet::networks(const std::vector<Record>& records) {
  std::lock_guard lock(mu_);
  json::Value out = json::Value::array();
  for (const net::Network& n : BERTH_TRY(mgr_.list_networks())) {
    json::Value o = net::to_json(n);
    json::Value users = json::Value::array();
    for (const Record& r : records)
      for (const NetEntry& e : net_entries(r))
        if (e.network == n.name) users.push_back(r.name + net_entry_str(e).substr(e.network.size()));
    o.set("containers", std::move(users));
    out.push_back(std::move(o));
  }
  return out;
}

Status NodeNet::remove_network(const std::string& name, const std::vector<Record>& records) {
  std::lock_guard lock(mu_);
  BERTH_TRY(network(name));
  std::string users;
  for (const Record& r : records)
    for (const NetEntry& e : net_entries(r))
      if (e.network == name) users += (users.empty() ? "" : ", ") + r.name;
  if (!users.empty()) return Error(EBUSY, "network " + name + " is used by " + users + " (destroy them or set their --net first)");
  return mgr_.remove_network(name);
}

Status NodeNet::check(const Record& r, const std::vector<Record>& others) {
  Record copy = r;
  return resolve_into(copy, others, false);
}

Status NodeNet::resolve(Record& r, const std::vector<Record>& others) { return resolve_into(r, others, true); }

Status NodeNet::resolve_into(Record& r, const std::vector<Record>& others, bool choose) {
  for (const std::string& s : r.nameservers)
    if (!net::parse_ip(s)) return field_error("nameserver", "\"" + s + "\" is not an IP address");
  std::lock_guard lock(mu_);
  std::vector<NetEntry> entries = net_entries(r);
  std::vector<std::string> out;
  for (size_t i = 0; i < entries.size(); ++i) {
    NetEntry& e = entries[i];
    std::string field = "net[" + std::to_string(i) + "]";
    for (size_t j = 0; j < i; ++j)
      if (entries[j].network == e.network) return field_error(field, "network " + e.network + " is named twice");
    net::Network n = BERTH_TRY_CTX(network(e.network), field);
    std::optional<net::IpAddr> want4, want6;
    for (const std::string& s : e.addresses) {
      auto ip = net::parse_ip(s);
      if (!ip) return field_error(field, "\"" + s + "\" is not an IP address");
      auto& slot = ip->is_v4() ? want4 : want6;
      if (slot) return field_error(field, "two " + std::string(ip->is_v4() ? "IPv4" : "IPv6") + " addresses");
      slot = *ip;
    }
    if (want4 && !n.v4) return field_error(field, "network " + n.name + " has no subnet of IPv4");
    if (want6 && !n.v6) return field_error(field, "network " + n.name + " has no subnet of IPv6");
    if (!n.v4 && !n.v6) return field_error(field, "network " + n.name + " has no subnet");
    net::LeaseTable live = BERTH_TRY(mgr_.leases(n.name));
    net::LeaseTable t = taken(n.name, r.name, others, live);
    // This container's earlier entries are on other networks, never this
    // one. An address of each family the network has, chosen once and kept.
    std::vector<std::string> chosen;
    for (auto [want, pool] : {std::pair{want4, n.v4 ? &*n.v4 : nullptr}, std::pair{want6, n.v6 ? &*n.v6 : nullptr}}) {
      if (!pool || !(want || choose)) continue;
      net::IpAddr a = BERTH_TRY_CTX(net::allocate(n, *pool, t, want), field);
      chosen.push_back(a.str());
    }
    if (!chosen.empty()) e.addresses = std::move(chosen);
    out.push_back(net_entry_str(e));
  }
  BERTH_TRY(check_ports(r, others));
  if (choose) r.nets = std::move(out);
  return ok();
}

Status NodeNet::check_ports(const Record& r, const std::vector<Record>& others) {
  // What other containers forward: their records, and live leases of
  // containers berthd does not know.
  std::vector<std::pair<net::PortForward, std::string>> used;
  for (const Record& o : others)
    if (o.name != r.name)
      for (const std::string& s : o.ports)
        if (auto p = net::parse_port_forward(s)) used.emplace_back(*p, o.name);
  for (const net::Network& n : BERTH_TRY(mgr_.list_networks()))
    for (const net::Attachment& a : BERTH_TRY(mgr_.leases(n.name)).items)
      if (a.container != r.name)
        for (const net::PortForward& p : a.ports) used.emplace_back(p, a.container);
  for (size_t i = 0; i < r.ports.size(); ++i) {
    std::string field = "port[" + std::to_string(i) + "]";
    if (r.nets.empty()) return field_error(field, "a port forward needs a network (--net)");
    auto p = net::parse_port_forward(r.ports[i]);
    if (!p) return field_error(field, p.error().message());
    for (const auto& [q, who] : used)
      if (q.proto == p->proto && q.host_port == p->host_port)
        return Error(EADDRINUSE, field + ": " + q.proto + " node port " + std::to_string(q.host_port) + " already forwards to " + who);
    used.emplace_back(*p, r.name);
  }
  return ok();
}

namespace {

// The guest's systemd starts its networkd at boot (the Debian templates
// enable it): berth then writes its config instead of setting addresses.
bool networkd_enabled(int root) {
  auto wants = open_in_guest(root, "etc/systemd/system/multi-user.target.wants", O_PATH | O_DIRECTORY);
  struct stat st;
  return wants && ::fstatat(wants->get(), "systemd-networkd.service", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

constexpr std::string_view kNetworkdPrefix = "10-berth-";

// One file per network the container is on; berth's files for networks it
// left go.
Status write_networkd_files(int root, const std::vector<net::Network>& nets,
                            const std::vector<net::Attachment>& atts, uid_t owner) {
  auto dir = open_in_guest(root, "etc/systemd/network", O_RDONLY | O_DIRECTORY);
  if (!dir) return std::move(dir).error().wrap("/etc/systemd/network");
  std::set<std::string> ours;
  for (size_t i = 0; i < atts.size(); ++i) {
    std::string name = std::string(kNetworkdPrefix) + atts[i].ifname + ".network";
    BERTH_TRY(write_guest_file(dir->get(), name, net::networkd_file(nets[i], atts[i]), owner, owner));
    ours.insert(name);
  }
  for (const std::string& f : BERTH_TRY(fs::list_dir("/proc/self/fd/" + std::to_string(dir->get()))))
    if (f.starts_with(kNetworkdPrefix) && f.ends_with(".network") && !ours.count(f)) ::unlinkat(dir->get(), f.c_str(), 0);
  return ok();
}

}  // namespace

Status NodeNet::add_hook(json::Value& spec, const Record& r, bool guest_config) const {
  if (r.nets.empty()) return ok();
  if (::access(hook_.c_str(), X_OK) < 0) return Error::os("net: the network hook " + hook_);
  json::Value args = json::Value::array();
  for (const std::string& a : std::vector<std::string>{hook_, "--state", state_dir(), "--pins", pin_dir(), "--name", r.name})
    args.push_back(a);
  if (guest_config) args.push_back("--guest-config");
  if (r.rate) {
    args.push_back("--rate");
    args.push_back(std::to_string(*r.rate));
  }
  for (const std::string& p : r.ports) {
    args.push_back("--port");
    args.push_back(p);
  }
  for (const std::string& e : r.nets) args.push_back(e);
  json::Value hook = json::Value::object();
  hook.set("path", hook_);
  hook.set("args", std::move(args));
  hook.set("timeout", 30);
  json::Value hooks = json::Value::object();
  hooks.set("createRuntime", json::Value(json::Array{std::move(hook)}));
  spec.set("hooks", std::move(hooks));
  return ok();
}

Result<bool> NodeNet::write_guest_files(const std::string& rootfs, const Record& r) {
  bool dns = !r.nets.empty() || !r.nameservers.empty() || !r.searchdomains.empty();
  std::vector<net::Network> nets;
  {
    std::lock_guard lock(mu_);
    for (const NetEntry& e : net_entries(r)) nets.push_back(BERTH_TRY_CTX(network(e.network), "net"));
  }
  // The container's own nameservers and search domains replace the
  // networks', as vzctl's --nameserver/--searchdomain do.
  net::Network own;
  own.dns = r.nameservers;
  own.search = r.searchdomains;
  std::vector<const net::Network*> from;
  if (!own.dns.empty() || !own.search.empty()) from.push_back(&own);
  if (own.dns.empty()) for (const auto& n : nets) from.push_back(&n);
  std::vector<net::Attachment> atts;
  for (const NetEntry& e : net_entries(r)) {
    net::Attachment a;
    a.ifname = net_ifname(atts.size());
    a.default_route = atts.empty();
    for (const std::string& s : e.addresses)
      if (auto ip = net::parse_ip(s)) (ip->is_v4() ? a.ipv4 : a.ipv6) = *ip;
    atts.push_back(std::move(a));
  }
  std::vector<const net::Attachment*> att_ptrs;
  for (const auto& a : atts) att_ptrs.push_back(&a);

  std::string what = "guest files of " + r.name;
  UniqueFd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::os(what + ": open " + rootfs);
  auto etc = open_in_guest(root.get(), "etc", O_PATH | O_DIRECTORY);
  // An app image without /etc gets no identity files; a network needs them.
  if (!etc && etc.error().code() == ENOENT && !dns) return false;
  if (!etc) return std::move(etc).error().wrap(what);
  UniqueFd etc_dir(::openat(etc->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!etc_dir) return Error::os(what + ": open /etc");
  uid_t owner = r.idmap_base.value_or(0);
  if (dns) BERTH_TRY_CTX(write_guest_file(etc_dir.get(), "resolv.conf", net::resolv_conf(from), owner, owner), what);
  // The guest's own name, which its init sets from /etc/hostname (systemd
  // does, over the runtime's), and its hosts file carries.
  std::string host = r.hostname.empty() ? r.name : r.hostname;
  BERTH_TRY_CTX(write_guest_file(etc_dir.get(), "hostname", host + "\n", owner, owner), what);
  BERTH_TRY_CTX(write_guest_file(etc_dir.get(), "hosts", net::hosts_file(host, "", att_ptrs), owner, owner), what);
  // A machine id of its own on the first start (the template's is empty),
  // kept from then on, as a VM's is.
  if (r.init == InitKind::systemd) {
    struct stat st;
    if (::fstatat(etc_dir.get(), "machine-id", &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
      BERTH_TRY_CTX(write_guest_file(etc_dir.get(), "machine-id", new_machine_id() + "\n", owner, owner, 0444), what);
  }
  if (r.init != InitKind::systemd || !networkd_enabled(root.get())) return false;
  BERTH_TRY_CTX(write_networkd_files(root.get(), nets, atts, owner), what);
  return !atts.empty();
}

Status NodeNet::detach(const std::string& name) {
  // The container's network namespace goes first (its pin was the last
  // hold on it once the container is dead) and takes the veth pairs with
  // it: the kernel deletes the links of the namespaces that die together
  // in one batch, with one RCU wait, where deleting each link here costs
  // one wait (15-40 ms) under the kernel's rtnl lock, so that the stops of
  // many containers queued behind each other. The host ends are waited
  // for outside the lock; the detach then deletes whatever link is still
  // there (a namespace held elsewhere) and frees the leases.
  std::vector<std::pair<std::string, std::string>> leased;  // network, host end
  {
    std::lock_guard lock(mu_);
    auto nets = mgr_.list_networks();
    if (!nets) return std::move(nets).error().wrap("detach " + name);
    for (const net::Network& n : *nets)
      if (auto t = mgr_.leases(n.name))
        if (const net::Attachment* a = t->find(name)) leased.emplace_back(n.name, a->host_if);
  }
  Status result = net::remove_netns(fs::join(pin_dir(), name));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  for (const auto& [network, link] : leased)
    while (::if_nametoindex(link.c_str()) != 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::lock_guard lock(mu_);
  for (const auto& [network, link] : leased)
    if (auto st = mgr_.detach(network, name); !st && result) result = std::move(st).error();
  return result;
}

void NodeNet::repair(const std::set<std::string>& running) {
  std::set<std::string> stale;
  {
    std::lock_guard lock(mu_);
    if (auto nets = mgr_.list_networks())
      for (const net::Network& n : *nets)
        if (auto t = mgr_.leases(n.name))
          for (const net::Attachment& a : t->items)
            if (!running.count(a.container)) stale.insert(a.container);
  }
  if (auto pins = fs::list_dir(pin_dir()))
    for (const std::string& p : *pins)
      if (!running.count(p)) stale.insert(p);
  for (const std::string& name : stale) {
    log::warn("reconcile: " + name + " is not running; detaching it from its networks");
    if (auto st = detach(name); !st) log::error("reconcile: " + st.error().what());
  }
  std::lock_guard lock(mu_);
  auto rep = mgr_.repair();
  if (!rep) return log::error("reconcile: network repair: " + rep.error().what());
  for (const auto& l : rep->removed_links) log::warn("reconcile: removed orphan link " + l);
  for (const auto& l : rep->released_leases) log::warn("reconcile: released stale lease " + l);
  for (const auto& l : rep->restored) log::warn("reconcile: restored " + l);
}

}  // namespace berth::supervisor
