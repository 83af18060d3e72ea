// berth-nethook — the createRuntime hook of a system container with
// networks: run by the runtime (inside the container's monitor) once the
// container's namespaces exist and before its init runs. It pins the
// container's own network namespace (owned by the container's user
// namespace, so root inside manages its interfaces) and attaches it to each
// network through the node's net::Manager state. Any failure undoes what
// it made and exits 1, which fails the start.
//
//   berth-nethook --state DIR --pins DIR --name NAME [--guest-config] [--rate BYTES/S] [--port SPEC]... NETWORK:ADDRESS...
//   --guest-config: the links only; the guest's own networkd sets the
//   addresses and routes from the files berthd wrote.
//   stdin: the OCI state of the container (its "pid").
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "berth/base/flags.h"
#include "berth/base/fs.h"
#include "berth/base/json.h"
#include "berth/net/manager.h"
#include "berth/net/netns.h"

using namespace berth;

namespace {

struct Args {
  std::string state, pins, name;
  uint64_t rate = 0;
  bool guest_config = false;
  std::vector<net::PortForward> ports;                    // on the first network
  std::vector<std::pair<std::string, std::string>> nets;  // network, address
};

constexpr const char* kUsage =
    "usage: berth-nethook --state DIR --pins DIR --name NAME [--guest-config] [--rate BYTES_PER_S]\n"
    "                     [--port [tcp|udp:]HOSTPORT:PORT]... NETWORK:ADDRESS[+ADDRESS]...\n"
    "berthd's createRuntime hook: attaches a starting container (its state on stdin) to its networks.\n";

Result<Args> parse_args(int argc, char** argv) {
  using flags::Flag;
  flags::Args f = BERTH_TRY(
      flags::Args::parse(argc, argv, 1,
                         {Flag::text({"state"}), Flag::text({"pins"}), Flag::text({"name"}),
                          Flag::boolean({"guest-config"}), Flag::integer({"rate"}, 0, 1e15), Flag::text({"port"})}));
  Args a;
  a.state = f.get("state");
  a.pins = f.get("pins");
  a.name = f.get("name");
  a.guest_config = f.has("guest-config");
  a.rate = static_cast<uint64_t>(f.integer("rate", 0));
  for (const auto& p : f.all("port")) a.ports.push_back(BERTH_TRY(net::parse_port_forward(p)));
  for (const auto& s : f.positional()) {
    size_t c = s.find(':');
    if (c == std::string::npos) return Error::msg("\"" + s + "\": expected NETWORK:ADDRESS");
    a.nets.emplace_back(s.substr(0, c), s.substr(c + 1));
  }
  if (a.state.empty() || a.pins.empty() || a.name.empty() || a.nets.empty())
    return Error::msg("--state, --pins, --name and a NETWORK:ADDRESS are required");
  return a;
}

Result<long> container_pid() {
  std::string text = BERTH_TRY_CTX(fs::read_fd(0, "stdin", 1u << 20), "container state");
  json::Value v = BERTH_TRY_CTX(json::parse(text), "container state");
  const json::Value* pid = v.find("pid");
  if (!pid || !pid->is_uint() || pid->as_uint() == 0) return Error::msg("container state: no pid");
  return static_cast<long>(pid->as_uint());
}

Status attach_all(const Args& a, long pid) {
  std::string source = "/proc/" + std::to_string(pid) + "/ns/net";
  (void)net::remove_netns(fs::join(a.pins, a.name));  // a pin a crash left
  std::string pin = BERTH_TRY(net::pin_netns(a.pins, a.name, source));
  net::Manager mgr(a.state);
  std::vector<std::string> done;
  auto undo = [&] {
    for (const auto& n : done) (void)mgr.detach(n, a.name);
    (void)net::remove_netns(pin);
  };
  for (size_t i = 0; i < a.nets.size(); ++i) {
    const auto& [network, address] = a.nets[i];
    net::AttachRequest req;
    req.network = network;
    req.container = a.name;
    req.netns = pin;
    req.ifname = "eth" + std::to_string(i);
    // ADDRESS[+ADDRESS]: one of each family the network has.
    for (size_t from = 0; from <= address.size();) {
      size_t plus = std::min(address.find('+', from), address.size());
      std::string one = address.substr(from, plus - from);
      auto ip = net::parse_ip(one);
      if (!ip) {
        undo();
        return Error::msg("net " + network + ": \"" + one + "\" is not an IP address");
      }
      (ip->is_v4() ? req.ipv4 : req.ipv6) = *ip;
      from = plus + 1;
    }
    req.rate_in = req.rate_out = a.rate;
    if (i == 0) req.ports = a.ports;
    req.default_route = i == 0;  // eth0 carries the default route
    req.guest_config = a.guest_config;
    if (auto r = mgr.attach(req); !r) {
      undo();
      return std::move(r).error();
    }
    done.push_back(network);
  }
  return ok();
}

}  // namespace

int main(int argc, char** argv) {
  auto args = parse_args(argc, argv);
  if (!args && args.error().code() == flags::kHelpAsked) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args) {
    std::fprintf(stderr, "berth-nethook: %s\n%s", args.error().what().c_str(), kUsage);
    return 2;
  }
  auto pid = container_pid();
  Status st = pid ? attach_all(*args, *pid) : Status(pid.error());
  if (!st) {
    std::fprintf(stderr, "berth-nethook: %s: %s\n", args->name.c_str(), st.error().what().c_str());
    return 1;
  }
  return 0;
}
