// args.cpp — berth-net flag parsing.
#include "args.h"

#include <charconv>
#include <cstdio>

namespace berth::net_cli {

Status expect(const Args& a, size_t n, const std::string& usage) {
  if (a.positional().size() != n) return Error::msg("expected " + usage);
  return ok();
}

Result<uint64_t> parse_rate(const std::string& flag, const std::string& text) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  std::string unit(ptr, text.data() + text.size());
  uint64_t mult = 0;
  if (unit.empty()) mult = 8;  // plain bytes per second
  else if (unit == "kbit") mult = 1000;
  else if (unit == "mbit") mult = 1000 * 1000;
  else if (unit == "gbit") mult = 1000 * 1000 * 1000;
  if (ec != std::errc() || ptr == text.data() || mult == 0)
    return Error::msg("--" + flag + ": \"" + text + "\" is not a rate (bytes/s, or N kbit|mbit|gbit)");
  return v * mult / 8;
}

void print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

}  // namespace berth::net_cli
