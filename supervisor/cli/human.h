// human.h — the CLI's figures for people: sizes, durations and times as
// `berth list` and `berth status` print them (--format json keeps the
// exact numbers).
#pragma once

#include <cstdint>
#include <string>

namespace berth::cli {

/// Bytes with a binary suffix, exact where it divides ("512M", "2G",
/// "1536K"), else one decimal of the largest unit ("1.5G").
std::string human_size(uint64_t bytes);
/// Seconds as the two largest units ("45s", "3m12s", "3h12m", "2d4h").
std::string human_duration(uint64_t seconds);
/// Seconds since the epoch as an ISO 8601 UTC time ("2026-12-07T02:22:32Z").
std::string iso_time(int64_t epoch_seconds);

}  // namespace berth::cli
