// strings.h — small string helpers shared by every part of berth.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth {

/// A size in bytes, as every berth command and record writes it: digits,
/// then nothing or B (bytes), or K, M, G, T (powers of 1024), upper or
/// lower case, with or without "iB" or "B" after them: 4096, 512M, 2g,
/// 1GiB, 64KB. The error names what was given; callers prefix the field.
Result<uint64_t> parse_size(std::string_view text);

/// The fields of `s` between separators `sep`, empty ones included:
/// "a,,b" gives {"a", "", "b"}, "" gives {""}. Views into `s`.
inline std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

}  // namespace berth
