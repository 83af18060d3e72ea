// strings.cpp — the size parser every command and record shares.
#include "berth/base/strings.h"

#include <cctype>
#include <cstdio>
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

std::string usage_lines(std::string_view usage, std::string_view verb) {
  std::string out;
  bool in_entry = false;
  std::string v(verb);
  while (!usage.empty() && !verb.empty()) {
    size_t nl = usage.find('\n');
    std::string_view line = usage.substr(0, nl);
    usage.remove_prefix(nl == std::string_view::npos ? usage.size() : nl + 1);
    if (line.size() > 2 && line.starts_with("  ") && line[2] != ' ') {
      std::string_view head = line.substr(2, line.find(' ', 2) - 2);
      in_entry = false;
      for (std::string_view name : split(head, '|')) in_entry = in_entry || name == verb;
      in_entry = in_entry || line.find("   " + v + " ") != std::string_view::npos ||
                 line.find("| " + v + " ") != std::string_view::npos || line.ends_with("| " + v) ||
                 line.ends_with("   " + v);
    } else if (!line.starts_with("    ")) {
      in_entry = false;
    }
    if (in_entry) out.append(line).append("\n");
  }
  return out;
}

int verb_help(std::string_view program, std::string_view usage, std::string_view verb) {
  std::string lines = usage_lines(usage, verb);
  if (lines.empty()) {
    std::fprintf(stderr, "%.*s: unknown command %.*s\n%.*s", static_cast<int>(program.size()), program.data(),
                 static_cast<int>(verb.size()), verb.data(), static_cast<int>(usage.size()), usage.data());
    return 2;
  }
  std::fputs(lines.c_str(), stdout);
  return 0;
}

}  // namespace berth
