// args.h — flags of one berth-net command: repeatable --name VALUE flags,
// boolean flags and positionals.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::net_cli {

class Args {
public:
  /// Parses argv for a command accepting `valued` (--x V, --x=V, repeatable)
  /// and `boolean` flags. Errors name the flag.
  static Result<Args> parse(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                            const std::set<std::string>& boolean);

  bool has(const std::string& f) const { return values_.count(f) > 0; }
  /// The last value of a flag, or `def`.
  std::string get(const std::string& f, const std::string& def = "") const;
  const std::vector<std::string>& all(const std::string& f) const;
  const std::vector<std::string>& positional() const { return pos_; }
  /// Exactly n positionals, or an error naming `usage`.
  Status expect(size_t n, const std::string& usage) const;

private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> pos_;
};

/// "1000000", "8mbit", "512kbit", "1gbit" -> bytes per second.
Result<uint64_t> parse_rate(const std::string& flag, const std::string& text);

/// Writes to stdout (buffered; flushed at exit).
void print(const std::string& s);

}  // namespace berth::net_cli
