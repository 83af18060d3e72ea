// args.h — flags and positionals of one berth-image command, and the
// option groups several commands share (registry, platform, unpacking).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/flags.h"
#include "berth/images/descriptor.h"
#include "berth/images/registry.h"
#include "berth/images/unpack.h"

namespace berth::image_cli {

using flags::Args;
using flags::Flag;

/// `argv` (after the command's name) parsed for `cmd`, which refusals name.
inline Result<Args> parse_flags(const std::string& cmd, const std::vector<std::string>& argv,
                                const std::vector<Flag>& flags) {
  return Args::parse(argv, flags, {flags::Dialect::gnu, false, cmd});
}

/// The flags registry_options() reads.
std::vector<Flag> registry_flags();
/// --ca, --creds, --creds-file, --plain-http, --timeout, --retries,
/// --parallel, --chunk-size.
Result<images::RegistryOptions> registry_options(const Args& a);

/// "linux/arm64/v8" -> Platform; the host's when `text` is empty.
Result<images::Platform> parse_platform_flag(std::string_view text);

/// Unpack options fit for this process: as root, owners, devices and
/// trusted.overlay.*; otherwise none of these and user.overlay.*.
images::UnpackOptions unpack_options_for_caller();

/// Writes to stdout in full.
void print(const std::string& s);

}  // namespace berth::image_cli
