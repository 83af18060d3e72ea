// firewall.h — berth's nftables table ("inet berth"): egress masquerade per
// network, port forwards, and routed-mode anti-spoofing. The whole table is
// rendered from the networks and their attachments (pure) and replaced in
// one nftables transaction, so applying is also reconciling.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/net/ipam.h"
#include "berth/net/network.h"

namespace berth::net {

constexpr const char* kTableFamily = "inet";
constexpr const char* kTableName = "berth";

/// One network and its attachments, as the renderer sees them.
struct NetworkState {
  Network network;
  LeaseTable leases;
};

/// The nft script that replaces berth's table with the one `state` needs,
/// atomically; when nothing needs a rule, the script only deletes the table.
/// Pure.
std::string render_ruleset(const std::vector<NetworkState>& state);

/// Runs an nft script through libnftables in the current network namespace.
/// Errors carry nft's own message.
Status run_nft(const std::string& script);

}  // namespace berth::net
