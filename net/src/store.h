// store.h — the files under the state directory and the lock that
// serialises changes to them (private to berth_net).
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "berth/net/firewall.h"
#include "berth/net/ipam.h"
#include "berth/net/network.h"

namespace berth::net::store {

/// Takes <dir>/lock exclusively (flock), creating the directory tree.
Result<UniqueFd> lock(const std::string& dir);

std::string network_path(const std::string& dir, const std::string& name);
std::string leases_path(const std::string& dir, const std::string& name);
std::string netns_dir(const std::string& dir);

Result<std::vector<Network>> load_networks(const std::string& dir);
Result<Network> load_network(const std::string& dir, const std::string& name);
Status save_network(const std::string& dir, const Network& n);
/// A missing lease file is an empty table.
Result<LeaseTable> load_leases(const std::string& dir, const std::string& name);
Status save_leases(const std::string& dir, const std::string& name, const LeaseTable& t);
Result<std::vector<NetworkState>> load_all(const std::string& dir);

/// Renders the table from the stored state and applies it when it differs
/// from the script applied last (or always, with `force`).
Status apply_firewall(const std::string& dir, bool force);

}  // namespace berth::net::store
