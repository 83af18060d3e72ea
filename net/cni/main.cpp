// main.cpp — berth-cni: a CNI 1.0 plugin (ADD, DEL, CHECK, VERSION) on the
// net library. The network named in the config is created in berth's state
// on first use; each container is an attachment keyed by CNI_CONTAINERID.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "berth/base/fs.h"
#include "berth/net/manager.h"
#include "config.h"

namespace berth::cni {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

int fail(const std::string& version, int code, const std::string& msg) {
  std::fputs(error_json(version, code, msg).c_str(), stdout);
  return 1;
}

// The config's network, as stored: created from the config on first use.
// A stored network whose subnets differ from the config is an error, since
// leases were handed out from the stored pool.
Result<net::Network> ensure_network(net::Manager& m, const net::Network& want) {
  auto have = m.get_network(want.name);
  if (!have && have.error().code() == ENOENT) {
    auto st = m.create_network(want);
    have = m.get_network(want.name);  // created here or by a concurrent ADD
    if (!have && !st) return std::move(st).error();
  }
  if (!have) return std::move(have).error();
  auto cidr = [](const std::optional<net::Subnet>& s) { return s ? s->cidr.str() : std::string("-"); };
  if (cidr(have->v4) != cidr(want.v4) || cidr(have->v6) != cidr(want.v6) || have->mode != want.mode)
    return Error::msg("network " + want.name + ": the stored network (" + cidr(have->v4) + ", " + cidr(have->v6) +
                      ", " + net::mode_name(have->mode) + ") differs from the config");
  return have;
}

int cmd_add(const Config& c, net::Manager& m) {
  std::string netns = env("CNI_NETNS");
  if (netns.empty()) return fail(c.cni_version, kInvalidEnv, "CNI_NETNS is required for ADD");
  auto n = ensure_network(m, c.network);
  if (!n) return fail(c.cni_version, kPluginFailure, n.error().what());
  net::AttachRequest r;
  r.network = n->name;
  r.container = env("CNI_CONTAINERID");
  r.netns = netns;
  r.ifname = env("CNI_IFNAME");
  for (const net::IpAddr& ip : c.ips) (ip.is_v4() ? r.ipv4 : r.ipv6) = ip;
  r.mac = c.mac;
  r.ports = c.ports;
  r.rate_in = c.rate_in;
  r.rate_out = c.rate_out;
  auto a = m.attach(r);
  if (!a) {
    int code = a.error().code() == ENOSPC || a.error().code() == EADDRINUSE ? kTryAgain : kPluginFailure;
    if (a.error().code() == 0) code = kInvalidConfig;
    return fail(c.cni_version, code, a.error().what());
  }
  std::fputs((json::dump(make_result(c, *n, *a, netns), true) + "\n").c_str(), stdout);
  return 0;
}

int cmd_del(const Config& c, net::Manager& m) {
  // DEL must succeed when there is nothing (left) to remove.
  auto n = m.get_network(c.network.name);
  if (!n) return n.error().code() == ENOENT ? 0 : fail(c.cni_version, kPluginFailure, n.error().what());
  auto st = m.detach(c.network.name, env("CNI_CONTAINERID"));
  if (!st) return fail(c.cni_version, kPluginFailure, st.error().what());
  return 0;
}

int cmd_check(const Config& c, net::Manager& m) {
  if (!c.prev_result) return fail(c.cni_version, kInvalidConfig, "prevResult: required for CHECK");
  std::string id = env("CNI_CONTAINERID");
  auto st = m.check(c.network.name, id);
  if (!st) return fail(c.cni_version, kCheckFailed, st.error().what());
  // Every address the runtime was told about must still be leased to us.
  auto leases = m.leases(c.network.name);
  if (!leases) return fail(c.cni_version, kCheckFailed, leases.error().what());
  const net::Attachment* a = leases->find(id);
  if (!a) return fail(c.cni_version, kCheckFailed, "no lease for " + id);
  const json::Value* ips = c.prev_result->find("ips");
  if (ips && ips->is_array())
    for (const json::Value& e : ips->as_array()) {
      const json::Value* addr = e.find("address");
      if (!addr || !addr->is_string()) continue;
      auto cidr = net::parse_cidr(addr->as_string());
      if (!cidr || !((a->ipv4 && *a->ipv4 == cidr->addr) || (a->ipv6 && *a->ipv6 == cidr->addr)))
        return fail(c.cni_version, kCheckFailed, "prevResult.ips: " + addr->as_string() + " is not leased to " + id);
    }
  return 0;
}

int run() {
  std::string cmd = env("CNI_COMMAND");
  if (cmd == "VERSION") {
    json::Value v = json::Value::object();
    v.set("cniVersion", "1.0.0");
    json::Array list;
    for (const std::string& s : supported_versions()) list.emplace_back(s);
    v.set("supportedVersions", json::Value(std::move(list)));
    std::fputs((json::dump(v) + "\n").c_str(), stdout);
    return 0;
  }
  if (cmd != "ADD" && cmd != "DEL" && cmd != "CHECK")
    return fail("", kInvalidEnv, "CNI_COMMAND: \"" + cmd + "\" is not ADD, DEL, CHECK or VERSION");
  auto text = fs::read_fd(0, "stdin", 1 << 20);
  if (!text) return fail("", kIoFailure, text.error().what());
  auto parsed = parse_config(*text);
  if (auto* e = std::get_if<ConfigError>(&parsed)) return fail("", e->code, e->msg);
  const Config& c = std::get<Config>(parsed);
  if (env("CNI_CONTAINERID").empty()) return fail(c.cni_version, kInvalidEnv, "CNI_CONTAINERID is required");
  if (env("CNI_IFNAME").empty()) return fail(c.cni_version, kInvalidEnv, "CNI_IFNAME is required");
  net::Manager m(c.state_dir);
  if (cmd == "ADD") return cmd_add(c, m);
  if (cmd == "DEL") return cmd_del(c, m);
  return cmd_check(c, m);
}

}  // namespace
}  // namespace berth::cni

int main(int argc, char** argv) {
  // Run by hand: CNI plugins take their command from the environment.
  if (argc == 2 && std::getenv("CNI_COMMAND") == nullptr &&
      (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(
        "usage: CNI_COMMAND=ADD|DEL|CHECK|VERSION CNI_CONTAINERID=ID CNI_NETNS=PATH CNI_IFNAME=NAME berth-cni <CONFIG\n"
        "berth's CNI 1.0 plugin: containers on berth networks (the config's \"network\"), as a CNI runtime runs it.\n",
        stdout);
    return 0;
  }
  return berth::cni::run();
}
