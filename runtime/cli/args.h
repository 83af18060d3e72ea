// args.h — the runtime's commands read their flags with base's parser in
// runc's dialect (-name spellings, urfave/cli's refusals), since its
// callers (podman, containerd's shim) speak runc's command line.
#pragma once

#include <string>
#include <vector>

#include "berth/base/flags.h"

namespace berth::cli {

using flags::Args;
using flags::Flag;
using flags::kHelpAsked;

/// `argv` parsed in runc's dialect; with `stop_at_first_positional`, what
/// follows the first positional word is the command's own (exec, ps).
inline Result<Args> parse_flags(const std::vector<std::string>& argv, const std::vector<Flag>& flags,
                                bool stop_at_first_positional = false) {
  return Args::parse(argv, flags, {flags::Dialect::runc, stop_at_first_positional});
}

}  // namespace berth::cli
