// main.cpp — berth-net: global flags and the command table.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <iostream>
#include <sstream>

#include "args.h"
#include "berth/base/strings.h"
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
    "                 [--bridge BR] [--no-create-bridge] [--uplink LINK (routed: proxy ARP/NDP)]\n"
    "                 [--dns IP]... [--search DOMAIN]...\n"
    "                 [--mtu N] [--no-nat]\n"
    "  network rm NAME | network ls | network inspect NAME\n"
    "  attach NETWORK CONTAINER [--netns PATH] [--ifname NAME] [--ip ADDR]... [--mac MAC]\n"
    "                 [--port [tcp|udp:]HOSTPORT:PORT]... [--rate-in RATE] [--rate-out RATE]\n"
    "  detach NETWORK CONTAINER\n"
    "  repair                      remove orphan links, stale leases; reconcile nftables\n"
    "  netns add NAME | netns rm NAME\n"
    "  files NETWORK CONTAINER [--hostname H] [--domain D]   resolv.conf and hosts content\n"
    "  batch                       one command per stdin line, in one process\n"
    "RATE: bytes per second, or N kbit|mbit|gbit. State defaults to /run/berth/net\n"
    "($BERTH_NET_STATE).\n";

Status dispatch(net::Manager& m, const std::vector<std::string>& words) {
  for (const Entry& e : kCommands)
    if (words[0] == e.name) {
      Status st = e.fn(m, std::vector<std::string>(words.begin() + 1, words.end()));
      if (!st) return std::move(st).error().wrap(words[0]);
      return ok();
    }
  return Error::msg("unknown command " + words[0]);
}

// One command per stdin line, all through one manager (one netlink socket,
// one process), the way the supervisor drives the library.
int batch(net::Manager& m) {
  std::string line;
  for (size_t no = 1; std::getline(std::cin, line); ++no) {
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty() || words[0].starts_with("#")) continue;
    if (Status st = dispatch(m, words); !st) {
      std::fprintf(stderr, "berth-net: batch line %zu: %s\n", no, st.error().what().c_str());
      return 1;
    }
  }
  return 0;
}

}  // namespace

int main_impl(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto line = flags::parse_command_line("berth-net", kUsage, args, {Flag::text({"state"})});
  if (line.exit) return *line.exit;
  const char* env = std::getenv("BERTH_NET_STATE");
  net::Manager m(line.globals.get("state", env && *env ? env : "/run/berth/net"));
  if (line.command == "batch") return batch(m);
  bool known = false;
  for (const Entry& e : kCommands) known |= line.command == e.name;
  if (!known) {
    std::fprintf(stderr, "berth-net: unknown command %s\n%s", line.command.c_str(), kUsage);
    return 2;
  }
  if (Status st = dispatch(m, line.globals.positional()); !st) {
    if (st.error().code() == flags::kHelpAsked) return verb_help("berth-net", kUsage, line.command);  // VERB ... -h
    std::fprintf(stderr, "berth-net: %s\n", st.error().what().c_str());
    return 1;
  }
  return 0;
}

}  // namespace berth::net_cli

int main(int argc, char** argv) { return berth::net_cli::main_impl(argc, argv); }
