// container_files.h — the /etc/resolv.conf and /etc/hosts a container gets
// from its network attachments (pure: the supervisor writes them into the
// container's root before its init runs).
#pragma once

#include <string>
#include <vector>

#include "berth/net/ipam.h"
#include "berth/net/network.h"

namespace berth::net {

/// "nameserver X" for each DNS server of the networks (first-seen order, no
/// duplicates, at most 3 as the resolver reads), then "search ..." and
/// "options ..." when given.
std::string resolv_conf(const std::vector<const Network*>& networks, const std::vector<std::string>& options = {});

/// localhost lines for both families, then one line per attachment address
/// naming `hostname` (and "hostname.domain" first when `domain` is set).
std::string hosts_file(const std::string& hostname, const std::string& domain,
                       const std::vector<const Attachment*>& attachments);

/// The systemd-networkd file (/etc/systemd/network/10-berth-IFNAME.network)
/// that gives the guest's own networkd what berth's hook would otherwise set
/// from outside: the attachment's addresses (/32 and /128 when routed), its
/// routes (the default route on the first network, the network's subnet on
/// the others; on-link through the host veth when routed), the network's DNS.
/// Router advertisements are not taken: berth's networks send none.
std::string networkd_file(const Network& n, const Attachment& a);

}  // namespace berth::net
