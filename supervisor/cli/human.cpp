// human.cpp — see human.h.
#include "human.h"

#include <cstdio>
#include <ctime>

namespace berth::cli {

std::string human_size(uint64_t bytes) {
  static const char units[] = "KMGTPE";
  if (bytes < 1024) return std::to_string(bytes);
  // The largest unit that divides exactly, if it leaves under 10000.
  for (int u = 5; u >= 0; --u) {
    uint64_t unit = uint64_t{1} << (10 * (u + 1));
    if (bytes % unit == 0 && bytes / unit < 10000) return std::to_string(bytes / unit) + units[u];
  }
  int u = 0;
  double v = static_cast<double>(bytes) / 1024;
  while (v >= 1024 && u < 5) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%c", v, units[u]);
  return buf;
}

std::string human_duration(uint64_t s) {
  const uint64_t d = s / 86400, h = s / 3600 % 24, m = s / 60 % 60, sec = s % 60;
  if (d) return std::to_string(d) + "d" + (h ? std::to_string(h) + "h" : "");
  if (h) return std::to_string(h) + "h" + (m ? std::to_string(m) + "m" : "");
  if (m) return std::to_string(m) + "m" + (sec ? std::to_string(sec) + "s" : "");
  return std::to_string(sec) + "s";
}

std::string iso_time(int64_t epoch) {
  std::time_t t = static_cast<std::time_t>(epoch);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace berth::cli
