// idshift.h — shifting a root filesystem's ownership into a container's
// uid/gid range, once at create (unprivileged containers).
#pragma once

#include <cstdint>
#include <string>

#include "berth/base/error.h"

namespace berth::supervisor {

/// Adds `base` to the owner and group of every entry under `root` (links
/// themselves, never followed; other file systems not crossed), keeping
/// setuid/setgid bits, which chown clears. Ids at or past the range size
/// are refused, naming the path.
Status shift_ownership(const std::string& root, uint32_t base);

}  // namespace berth::supervisor
