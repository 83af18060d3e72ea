// args.h — berth-net reads its flags with base's parser; rates and output.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/flags.h"

namespace berth::net_cli {

using flags::Args;
using flags::Flag;

/// `argv` parsed for `flags`; errors name the flag.
inline Result<Args> parse_flags(const std::vector<std::string>& argv, const std::vector<Flag>& flags) {
  return Args::parse(argv, flags);
}

/// Exactly n positionals, or an error naming `usage`.
Status expect(const Args& a, size_t n, const std::string& usage);

/// "1000000", "8mbit", "512kbit", "1gbit" -> bytes per second.
Result<uint64_t> parse_rate(const std::string& flag, const std::string& text);

/// Writes to stdout (buffered; flushed at exit).
void print(const std::string& s);

}  // namespace berth::net_cli
