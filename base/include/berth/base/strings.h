// strings.h — small string helpers shared by every part of berth.
#pragma once

#include <string_view>
#include <vector>

namespace berth {

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
