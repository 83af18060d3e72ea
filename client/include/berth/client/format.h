// format.h — berthd's answers for people: sizes, durations and times,
// fields of a JSON document as text, and aligned tables (--format json
// keeps the exact numbers).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/json.h"

namespace berth::client {

/// Bytes with a binary suffix, exact where it divides ("512M", "2G",
/// "1536K"), else one decimal of the largest unit ("1.5G").
std::string human_size(uint64_t bytes);
/// Seconds as the two largest units ("45s", "3m12s", "3h12m", "2d4h").
std::string human_duration(uint64_t seconds);
/// Seconds since the epoch as an ISO 8601 UTC time ("2026-12-07T02:22:32Z").
std::string iso_time(int64_t epoch_seconds);
/// Bytes with a spelled-out unit and one decimal ("1.5 MiB", "512 B").
std::string human_bytes(uint64_t bytes);

/// A field as text: a string as it is, anything else as JSON; "-" when
/// absent.
std::string field(const json::Value& v, const char* key);
/// An array field of strings as "a,b"; "-" when absent or empty.
std::string joined(const json::Value& v, const char* key);
/// A number field, given as a JSON number or (record fields) a string.
std::optional<uint64_t> number(const json::Value* v, const char* key);
/// A field as people read it: sizes (disk, ram, swap, rate,
/// memory_bytes), uptime, started and cpu_ns for people, else field().
std::string shown(const json::Value& v, const std::string& key);

/// Rows under titles, each column padded to its width and one space apart
/// (the last column unpadded): what printf("%-20s %-10s %s\n") gives, so
/// scripts reading the columns keep working.
class Table {
public:
  struct Column {
    std::string title;
    size_t width = 0;
    size_t max = 0;  // cut cells to this many characters (0: never)
  };
  explicit Table(std::vector<Column> columns) : columns_(std::move(columns)) {}

  /// Adds a row of one cell per column.
  void row(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  /// The titles and the rows, one line each.
  std::string str(bool titles = true) const;

private:
  std::string line(const std::vector<std::string>& cells) const;

  std::vector<Column> columns_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace berth::client
