// args.h — flags and positionals of one berth-image command, and the
// option groups several commands share (registry, platform, unpacking).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/images/descriptor.h"
#include "berth/images/registry.h"
#include "berth/images/unpack.h"

namespace berth::image_cli {

/// A flag a command accepts: --name VALUE, or --name alone when !takes_value.
struct Flag {
  std::string name;
  bool takes_value = true;
};

class Args {
public:
  /// Parses `argv` (after the command name) for `cmd`; "--name=value",
  /// "--name value" and "--" are understood. Errors name the flag.
  static Result<Args> parse(std::string_view cmd, const std::vector<std::string>& argv, const std::vector<Flag>& flags);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& def = "") const;
  const std::vector<std::string>& positional() const { return positional_; }
  /// Exactly `names.size()` positionals, or an error naming what is missing.
  Status expect(const std::vector<std::string>& names) const;
  /// A non-negative integer flag, or an error naming it.
  Result<uint64_t> number(const std::string& name, uint64_t def) const;
  const std::string& command() const { return cmd_; }

private:
  std::string cmd_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

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
