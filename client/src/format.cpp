// format.cpp — see format.h.
#include "berth/client/format.h"

#include <cstdio>
#include <ctime>

namespace berth::client {

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

std::string human_bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u ? "%.1f %s" : "%.0f %s", v, units[u]);
  return buf;
}

std::string field(const json::Value& v, const char* key) {
  const json::Value* f = v.find(key);
  if (!f) return "-";
  if (f->is_string()) return f->as_string();
  return json::dump(*f);
}

std::string joined(const json::Value& v, const char* key) {
  const json::Value* f = v.find(key);
  if (!f || !f->is_array() || f->as_array().empty()) return "-";
  std::string out;
  for (const auto& e : f->as_array()) out += (out.empty() ? "" : ",") + (e.is_string() ? e.as_string() : json::dump(e));
  return out;
}

std::optional<uint64_t> number(const json::Value* v, const char* key) {
  const json::Value* f = v ? v->find(key) : nullptr;
  if (f && f->is_uint()) return f->as_uint();
  if (!f || !f->is_string() || f->as_string().empty()) return std::nullopt;
  char* end = nullptr;
  unsigned long long n = std::strtoull(f->as_string().c_str(), &end, 10);
  return *end ? std::nullopt : std::optional<uint64_t>(n);
}

std::string shown(const json::Value& v, const std::string& key) {
  static const char* sizes[] = {"disk", "ram", "swap", "rate", "memory_bytes"};
  for (const char* s : sizes)
    if (key == s) {
      auto n = number(&v, s);
      return n ? human_size(*n) : field(v, s);
    }
  auto n = number(&v, key.c_str());
  if (key == "uptime") return n ? human_duration(*n) : "-";
  if (key == "started") return n ? iso_time(static_cast<int64_t>(*n)) : "-";
  if (key == "cpu_ns") {
    if (!n) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2fs", static_cast<double>(*n) / 1e9);
    return buf;
  }
  return field(v, key.c_str());
}

std::string Table::line(const std::vector<std::string>& cells) const {
  std::string out;
  for (size_t i = 0; i < columns_.size(); ++i) {
    std::string cell = i < cells.size() ? cells[i] : "-";
    if (columns_[i].max && cell.size() > columns_[i].max) cell.resize(columns_[i].max);
    if (i + 1 == columns_.size()) {
      out += cell;
      break;
    }
    if (cell.size() < columns_[i].width) cell.resize(columns_[i].width, ' ');
    out += cell + " ";
  }
  return out + "\n";
}

std::string Table::str(bool titles) const {
  std::string out;
  if (titles) {
    std::vector<std::string> t;
    for (const auto& c : columns_) t.push_back(c.title);
    out += line(t);
  }
  for (const auto& r : rows_) out += line(r);
  return out;
}

}  // namespace berth::client
