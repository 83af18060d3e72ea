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

/// For `PROGRAM VERB --help`: the lines of a usage text whose entry names
/// `verb` ("  verb ...", "  a|verb ...", "... | verb ...", or "   verb "
/// after another entry on the line), each with the lines that continue it
/// (indented four or more); empty when no entry names it.
std::string usage_lines(std::string_view usage, std::string_view verb);

/// Answers `PROGRAM VERB --help`: VERB's usage lines on stdout and 0, or
/// "PROGRAM: unknown command VERB" and the whole usage on stderr and 2.
int verb_help(std::string_view program, std::string_view usage, std::string_view verb);

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
