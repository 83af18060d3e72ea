// subid.cpp — subordinate id ranges for unprivileged containers.
#include "berth/supervisor/subid.h"

#include <algorithm>
#include <charconv>

namespace berth::supervisor {

namespace {

std::optional<uint64_t> number(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

bool inside(const std::vector<IdRange>& ranges, uint64_t b, uint64_t size) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const IdRange& r) { return b >= r.start && b + size <= r.start + r.count; });
}

bool overlaps(const std::vector<IdRange>& ranges, uint64_t b, uint64_t size) {
  return std::any_of(ranges.begin(), ranges.end(),
                     [&](const IdRange& r) { return b < r.start + r.count && r.start < b + size; });
}

// The record keeps a base up to UINT32_MAX - 65536.
constexpr uint64_t kLimit = (uint64_t{1} << 32) - 1;

}  // namespace

SubIds parse_subids(std::string_view text, const std::string& user, const std::string& uid) {
  SubIds out;
  while (!text.empty()) {
    size_t nl = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(std::min(nl + 1, text.size()));
    size_t a = line.find(':'), b = a == std::string_view::npos ? a : line.find(':', a + 1);
    if (line.empty() || line[0] == '#' || b == std::string_view::npos) continue;
    auto start = number(line.substr(a + 1, b - a - 1));
    auto count = number(line.substr(b + 1));
    if (!start || !count || *count == 0) continue;
    std::string_view name = line.substr(0, a);
    (name == user || name == uid ? out.own : out.others).push_back({*start, *count});
  }
  return out;
}

std::optional<uint32_t> pick_id_range(const SubIds& uid, const SubIds& gid, const std::vector<uint32_t>& used,
                                      uint64_t first, uint64_t size) {
  auto free = [&](uint64_t b) { return std::find(used.begin(), used.end(), b) == used.end(); };
  if (!uid.own.empty() || !gid.own.empty()) {
    std::vector<uint64_t> bases;
    for (const IdRange& r : uid.own)
      for (uint64_t b = (r.start + size - 1) / size * size; b + size <= r.start + r.count && b + size <= kLimit; b += size)
        bases.push_back(b);
    std::sort(bases.begin(), bases.end());
    for (uint64_t b : bases)
      if (inside(gid.own, b, size) && free(b)) return static_cast<uint32_t>(b);
    return std::nullopt;
  }
  for (uint64_t b = (first + size - 1) / size * size; b + size <= kLimit; b += size)
    if (free(b) && !overlaps(uid.others, b, size) && !overlaps(gid.others, b, size)) return static_cast<uint32_t>(b);
  return std::nullopt;
}

}  // namespace berth::supervisor
