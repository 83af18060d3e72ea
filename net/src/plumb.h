// plumb.h — making and removing an attachment's kernel objects (private to
// berth_net: attach, detach and repair share them).
#pragma once

#include "berth/base/error.h"
#include "berth/net/ipam.h"
#include "berth/net/netlink.h"
#include "berth/net/network.h"

namespace berth::net {

/// Opens the container's namespace and a socket there, then plumb()s.
Status plumb(Netlink& host, const Network& n, const Attachment& a);

/// The veth pair (peer into `netns_fd`), both sides' addresses and routes,
/// the routed-mode host side and the limits of `a`, whose lease is already
/// stored. `ctr` is a socket in the container's namespace.
Status plumb(Links& host, Links& ctr, int netns_fd, const Network& n, const Attachment& a);

/// Deletes the uplink's proxy entries, the host veth (its peer goes with
/// it) and the ifb, if any.
Status remove_links(Links& host, const Network& n, const Attachment& a);

}  // namespace berth::net
