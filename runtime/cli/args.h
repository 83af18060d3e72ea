// args.h — a small runc-style flag parser for the CLI commands.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::cli {

/// Declares one flag: names ("bundle", "b"), and whether it takes a value.
struct FlagSpec {
  std::vector<std::string> names;
  bool takes_value = false;
};

/// The code of the error parse returns for -h/--help (when no flag of
/// that name is declared): its message lists the declared flags.
constexpr int kHelpAsked = 1000;

/// Parsed flags and positionals. Flags may be written -x, --name, -name,
/// --name=value or --name value; "--" ends flags.
class Args {
public:
  static Result<Args> parse(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs,
                            bool stop_at_first_positional = false);

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& def = "") const;
  std::vector<std::string> all(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

private:
  std::multimap<std::string, std::string> values_;  // keyed by the first name
  std::vector<std::string> positional_;
};

}  // namespace berth::cli
