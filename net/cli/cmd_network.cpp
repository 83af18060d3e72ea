// cmd_network.cpp — network create/rm/ls/inspect, netns, repair, files.
#include <charconv>

#include "args.h"
#include "berth/base/json.h"
#include "berth/net/container_files.h"
#include "berth/net/netns.h"
#include "commands.h"

namespace berth::net_cli {
namespace {

Result<net::Network> network_from_flags(const std::string& name, const Args& a) {
  net::Network n;
  n.name = name;
  std::string mode = a.get("mode", "bridged");
  if (mode == "routed") n.mode = net::Mode::routed;
  else if (mode != "bridged") return Error::msg("network " + name + ": mode: \"" + mode + "\" is not bridged or routed");
  n.bridge = a.get("bridge");
  n.uplink = a.get("uplink");
  n.create_bridge = !a.has("no-create-bridge");
  for (const std::string& s : a.all("subnet")) {
    auto c = net::parse_cidr(s);
    if (!c) return Error::msg("network " + name + ": subnet: " + c.error().message());
    auto& slot = c->addr.is_v4() ? n.v4 : n.v6;
    if (slot) return Error::msg("network " + name + ": subnet: more than one " + (c->addr.is_v4() ? "IPv4" : "IPv6") + " subnet");
    slot = net::Subnet{*c, {}};
  }
  for (const std::string& g : a.all("gateway")) {
    auto ip = net::parse_ip(g);
    if (!ip) return Error::msg("network " + name + ": gateway: " + ip.error().message());
    auto& slot = ip->is_v4() ? n.v4 : n.v6;
    if (!slot) return Error::msg("network " + name + ": gateway: " + g + " has no subnet of its family");
    slot->gateway = *ip;
  }
  n.dns = a.all("dns");
  n.search = a.all("search");
  if (a.has("mtu")) {
    std::string m = a.get("mtu");
    auto [p, ec] = std::from_chars(m.data(), m.data() + m.size(), n.mtu);
    if (ec != std::errc() || p != m.data() + m.size()) return Error::msg("network " + name + ": mtu: \"" + m + "\" is not a number");
  }
  n.nat = !a.has("no-nat");
  return n;
}

std::string subnets(const net::Network& n) {
  std::string s;
  if (n.v4) s += n.v4->cidr.str();
  if (n.v6) s += (s.empty() ? "" : ",") + n.v6->cidr.str();
  return s;
}

}  // namespace

Status cmd_network(net::Manager& m, const std::vector<std::string>& argv) {
  if (argv.empty()) return Error::msg("expected network create|rm|ls|inspect");
  const std::string& verb = argv[0];
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (verb == "create") {
    Args a = BERTH_TRY(parse_flags(
        rest, {Flag::text({"mode"}), Flag::text({"subnet"}), Flag::text({"gateway"}), Flag::text({"bridge"}),
               Flag::text({"uplink"}), Flag::text({"dns"}), Flag::text({"search"}), Flag::integer({"mtu"}, 68, 65535),
               Flag::boolean({"no-create-bridge"}), Flag::boolean({"no-nat"})}));
    BERTH_TRY(expect(a, 1, "network create NAME"));
    return m.create_network(BERTH_TRY(network_from_flags(a.positional()[0], a)));
  }
  if (verb == "rm") {
    Args a = BERTH_TRY(parse_flags(rest, {}));
    BERTH_TRY(expect(a, 1, "network rm NAME"));
    return m.remove_network(a.positional()[0]);
  }
  if (verb == "ls") {
    std::string out;
    for (const net::Network& n : BERTH_TRY(m.list_networks()))
      out += n.name + "\t" + net::mode_name(n.mode) + "\t" + subnets(n) + "\t" + (n.bridge.empty() ? "-" : n.bridge) + "\n";
    print(out);
    return ok();
  }
  if (verb == "inspect") {
    Args a = BERTH_TRY(parse_flags(rest, {}));
    BERTH_TRY(expect(a, 1, "network inspect NAME"));
    json::Value v = net::to_json(BERTH_TRY(m.get_network(a.positional()[0])));
    v.set("leases", net::to_json(BERTH_TRY(m.leases(a.positional()[0]))));
    print(json::dump(v, true) + "\n");
    return ok();
  }
  return Error::msg("unknown network verb " + verb);
}

Status cmd_repair(net::Manager& m, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {}));
  BERTH_TRY(expect(a, 0, "no arguments"));
  net::RepairReport r = BERTH_TRY(m.repair());
  std::string out;
  for (const std::string& l : r.removed_links) out += "removed link " + l + "\n";
  for (const std::string& l : r.released_leases) out += "released lease " + l + "\n";
  for (const std::string& l : r.restored) out += "restored links of " + l + "\n";
  print(out);
  return ok();
}

Status cmd_netns(net::Manager& m, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {}));
  BERTH_TRY(expect(a, 2, "netns add|rm NAME"));
  std::string dir = m.state_dir() + "/netns";
  if (a.positional()[0] == "add") {
    print(BERTH_TRY(net::create_netns(dir, a.positional()[1])) + "\n");
    return ok();
  }
  if (a.positional()[0] == "rm") return net::remove_netns(dir + "/" + a.positional()[1]);
  return Error::msg("expected netns add|rm NAME");
}

Status cmd_files(net::Manager& m, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {Flag::text({"hostname"}), Flag::text({"domain"})}));
  BERTH_TRY(expect(a, 2, "files NETWORK CONTAINER"));
  net::Network n = BERTH_TRY(m.get_network(a.positional()[0]));
  net::LeaseTable t = BERTH_TRY(m.leases(n.name));
  const net::Attachment* at = t.find(a.positional()[1]);
  if (!at) return Error(ENOENT, "container " + a.positional()[1] + " is not attached to network " + n.name);
  print("# resolv.conf\n" + net::resolv_conf({&n}) + "# hosts\n" +
        net::hosts_file(a.get("hostname", at->container), a.get("domain"), {at}));
  return ok();
}

}  // namespace berth::net_cli
