// human_test.cpp — the CLI's sizes, durations and times for people.
#include "human.h"

#include <gtest/gtest.h>

using namespace berth::cli;

TEST(Human, Sizes) {
  EXPECT_EQ(human_size(0), "0");
  EXPECT_EQ(human_size(1000), "1000");
  EXPECT_EQ(human_size(512ull << 20), "512M");
  EXPECT_EQ(human_size(2ull << 30), "2G");
  EXPECT_EQ(human_size(1536ull << 10), "1536K");
  EXPECT_EQ(human_size(3ull << 29), "1536M");
  EXPECT_EQ(human_size(11976704), "11.4M");  // 11696K: past 9999 of a unit, one decimal
  EXPECT_EQ(human_size(10000ull << 20), "9.8G");
  EXPECT_EQ(human_size(16ull << 40), "16T");
}

TEST(Human, Durations) {
  EXPECT_EQ(human_duration(0), "0s");
  EXPECT_EQ(human_duration(45), "45s");
  EXPECT_EQ(human_duration(192), "3m12s");
  EXPECT_EQ(human_duration(3 * 3600 + 12 * 60 + 5), "3h12m");
  EXPECT_EQ(human_duration(3600), "1h");
  EXPECT_EQ(human_duration(2 * 86400 + 4 * 3600 + 59), "2d4h");
}

TEST(Human, Times) { EXPECT_EQ(iso_time(1796610192), "2026-12-07T02:23:12Z"); }
