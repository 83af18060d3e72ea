// node_limits.h — the node's own bounds on a container's limits, shared
// by create (node_lifecycle.cpp) and set (node_limits.cpp).
#pragma once

#include "berth/base/error.h"
#include "berth/supervisor/record.h"

namespace berth::supervisor {

/// Refuses RAM, a CPU count or a cpuset beyond what the node has, naming
/// the field and the node's figure.
Status check_node_limits(const Record& r);

}  // namespace berth::supervisor
