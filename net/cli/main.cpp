// main.cpp — berth-net: global flags and the command table.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "args.h"
#include "commands.h"

namespace berth::net_cli {
namespace {

struct Entry {
  const char* name;
  Command fn;
};

constexpr Entry kCommands[] = {
    {"network", cmd_network}, {"attach", cmd_attach}, {"detach", cmd_detach},
    {"repair", cmd_repair},   {"netns", cmd_netns},   {"files", cmd_files},
};

const char* kUsage =
    "usage: berth-net [--state DIR] COMMAND ...\n"
    "  network create NAME [--mode bridged|routed] [--subnet CIDR]... [--gateway IP]...\n"
    "                 [--bridge BR] [--no-create-bridge] [--dns IP]... [--search DOMAIN]...\n"
    "                 [--mtu N] [--no-nat]\n"
    "  network rm NAME | network ls | network inspect NAME\n"
    "  attach NETWORK CONTAINER [--netns PATH] [--ifname NAME] [--ip ADDR]... [--mac MAC]\n"
    "                 [--port [tcp|udp:]HOSTPORT:PORT]... [--rate-in RATE] [--rate-out RATE]\n"
    "  detach NETWORK CONTAINER\n"
    "  repair                      remove orphan links, stale leases; reconcile nftables\n"
    "  netns add NAME | netns rm NAME\n"
    "  files NETWORK CONTAINER [--hostname H] [--domain D]   resolv.conf and hosts content\n"
    "RATE: bytes per second, or N kbit|mbit|gbit. State defaults to /run/berth/net\n"
    "($BERTH_NET_STATE).\n";

}  // namespace

int main_impl(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  const char* env = std::getenv("BERTH_NET_STATE");
  std::string state = env && *env ? env : "/run/berth/net";
  size_t i = 0;
  for (; i < args.size() && args[i].starts_with("-"); ++i) {
    if (args[i] == "-h" || args[i] == "--help") {
      print(kUsage);
      return 0;
    }
    if (args[i] == "--state" && i + 1 < args.size()) state = args[++i];
    else if (args[i].starts_with("--state=")) state = args[i].substr(8);
    else {
      std::fprintf(stderr, "berth-net: unknown or incomplete global flag %s\n%s", args[i].c_str(), kUsage);
      return 2;
    }
  }
  if (i >= args.size()) {
    std::fprintf(stderr, "berth-net: missing command\n%s", kUsage);
    return 2;
  }
  std::string cmd = args[i];
  for (const Entry& e : kCommands) {
    if (cmd != e.name) continue;
    net::Manager m(state);
    Status st = e.fn(m, std::vector<std::string>(args.begin() + static_cast<long>(i) + 1, args.end()));
    if (!st) {
      std::fprintf(stderr, "berth-net: %s: %s\n", cmd.c_str(), st.error().what().c_str());
      return 1;
    }
    return 0;
  }
  std::fprintf(stderr, "berth-net: unknown command %s\n%s", cmd.c_str(), kUsage);
  return 2;
}

}  // namespace berth::net_cli

int main(int argc, char** argv) { return berth::net_cli::main_impl(argc, argv); }
