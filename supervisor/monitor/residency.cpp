// residency.cpp — unmapping the monitor's clean pages of its own binary
// once it serves (see residency.h).
#include "residency.h"

#include <sys/mman.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

#include "berth/base/fs.h"

namespace berth::supervisor {
namespace {

// "start-end perms offset dev inode   path": the range, perms and path.
bool parse_header(std::string_view line, MappedRange& r, std::string_view& perms, std::string_view& path) {
  size_t dash = line.find('-'), sp = line.find(' ');
  if (dash == std::string_view::npos || sp == std::string_view::npos || dash > sp) return false;
  char* end = nullptr;
  std::string a(line.substr(0, dash)), b(line.substr(dash + 1, sp - dash - 1));
  uintptr_t lo = std::strtoull(a.c_str(), &end, 16);
  if (*end) return false;
  uintptr_t hi = std::strtoull(b.c_str(), &end, 16);
  if (*end || hi <= lo) return false;
  r = {lo, static_cast<size_t>(hi - lo)};
  perms = line.substr(sp + 1, 4);
  if (perms.size() != 4) return false;
  // Five fields, then the path after spaces (none for anonymous memory).
  size_t at = sp;
  for (int field = 0; field < 4; ++field) {
    at = line.find_first_not_of(' ', at);
    if (at == std::string_view::npos) return false;
    at = line.find(' ', at);
    if (at == std::string_view::npos) {
      path = {};
      return true;
    }
  }
  at = line.find_first_not_of(' ', at);
  path = at == std::string_view::npos ? std::string_view() : line.substr(at);
  return true;
}

}  // namespace

std::vector<MappedRange> clean_file_ranges(std::string_view smaps, std::string_view path) {
  std::vector<MappedRange> out;
  MappedRange cur;
  bool candidate = false;
  while (!smaps.empty()) {
    size_t nl = smaps.find('\n');
    std::string_view line = smaps.substr(0, nl);
    smaps = nl == std::string_view::npos ? std::string_view() : smaps.substr(nl + 1);
    MappedRange r;
    std::string_view perms, p;
    if (parse_header(line, r, perms, p)) {
      cur = r;
      candidate = p == path && perms[1] != 'w';
      continue;
    }
    // Each mapping's "Anonymous:" line comes after its header.
    if (candidate && line.starts_with("Anonymous:")) {
      std::string kb(line.substr(10));
      if (std::strtoull(kb.c_str(), nullptr, 10) == 0) out.push_back(cur);
      candidate = false;
    }
  }
  return out;
}

Result<size_t> drop_clean_exe_pages() {
  char exe[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return Error::os("readlink /proc/self/exe");
  auto smaps = fs::read_file("/proc/self/smaps");
  if (!smaps) return std::move(smaps).error();
  size_t dropped = 0;
  for (const auto& r : clean_file_ranges(*smaps, std::string_view(exe, static_cast<size_t>(n)))) {
    if (::madvise(reinterpret_cast<void*>(r.start), r.length, MADV_DONTNEED) < 0) return Error::os("madvise");
    dropped += r.length;
  }
  return dropped;
}

}  // namespace berth::supervisor
