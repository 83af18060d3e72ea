// plumb.h — making and removing an attachment's kernel objects (private to
// berth_net: attach, detach and repair share them).
#pragma once

#include "berth/base/error.h"
#include "berth/net/ipam.h"
#include "berth/net/netlink.h"
#include "berth/net/network.h"

namespace berth::net {

/// The veth pair, both sides' addresses and routes, routed-mode host side
/// and limits of `a` (whose lease is already stored).
Status plumb(Netlink& host, const Network& n, const Attachment& a);

/// Deletes the host veth (its peer goes with it), the ifb and the uplink's
/// proxy entries, if any.
Status remove_links(Netlink& host, const Network& n, const Attachment& a);

}  // namespace berth::net
