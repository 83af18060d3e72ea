// netns.h — persistent named network namespaces: a namespace kept alive by a
// bind mount of its nsfs file under a state directory (as `ip netns` does
// under /run/netns), and removed by unmounting and unlinking it.
#pragma once

#include <string>

#include "berth/base/error.h"
#include "berth/base/fd.h"

namespace berth::net {

/// Makes a new network namespace pinned at DIR/NAME and returns its path.
/// The calling thread's own namespace is unchanged. DIR is made a shared
/// bind mount of itself first (once), so that mount namespaces made later
/// (containers) see the pin go when it is removed. EEXIST if NAME exists.
Result<std::string> create_netns(const std::string& dir, const std::string& name);

/// Pins the network namespace at `source` (e.g. /proc/PID/ns/net, a
/// container's own) at DIR/NAME, DIR made a shared mount as above, and
/// returns its path. EEXIST if NAME exists.
Result<std::string> pin_netns(const std::string& dir, const std::string& name, const std::string& source);

/// Unmounts and removes a pinned namespace; a missing one is fine.
Status remove_netns(const std::string& path);

/// Opens a namespace file (a pin, or /proc/PID/ns/net) and checks it is a
/// network namespace.
Result<UniqueFd> open_netns(const std::string& path);

}  // namespace berth::net
