// strings.cpp — the size parser every command and record shares.
#include "berth/base/strings.h"

#include <cctype>
#include <string>

namespace berth {

Result<uint64_t> parse_size(std::string_view text) {
  auto bad = [&] { return Error::msg("expected a size such as 512M or 2GiB, got \"" + std::string(text) + "\""); };
  size_t i = 0;
  uint64_t n = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
    if (n > (UINT64_MAX - 9) / 10) return Error::msg(std::string(text) + " is too large");
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  if (i == 0) return bad();
  std::string unit(text.substr(i));
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  int shift = -1;
  if (unit.empty() || unit == "B") shift = 0;
  for (auto [name, s] : {std::pair{'K', 10}, {'M', 20}, {'G', 30}, {'T', 40}})
    if (unit == std::string(1, name) || unit == std::string(1, name) + "B" || unit == std::string(1, name) + "IB") shift = s;
  if (shift < 0)
    return Error::msg("unknown unit \"" + std::string(text.substr(i)) + "\" in \"" + std::string(text) +
                      "\": expected a size such as 512M or 2GiB");
  if (shift && n > (UINT64_MAX >> shift)) return Error::msg(std::string(text) + " is too large");
  return n << shift;
}

}  // namespace berth
