// format_test.cpp — sizes, durations and times for people, fields and tables.
#include "berth/client/format.h"

#include <gtest/gtest.h>

using namespace berth::client;

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

TEST(Table, PadsLikePrintf) {
  Table t({{"NAME", 6}, {"STATE", 8}, {"ADDRESSES"}});
  t.row({"web", "running", "10.0.0.2"});
  t.row({"a-very-long-name", "stopped", "-"});
  EXPECT_EQ(t.str(),
            "NAME   STATE    ADDRESSES\n"
            "web    running  10.0.0.2\n"
            "a-very-long-name stopped  -\n");
  EXPECT_EQ(t.str(false), "web    running  10.0.0.2\na-very-long-name stopped  -\n");
}

TEST(Table, CutsToTheColumnsMaximum) {
  Table t({{"DIGEST", 8, 7}, {"SIZE"}});
  t.row({"sha256:abcdef", "1M"});
  EXPECT_EQ(t.str(), "DIGEST   SIZE\nsha256:  1M\n");
}

TEST(Fields, AsText) {
  auto v = berth::json::parse(R"({"name":"a","n":3,"list":["x","y"],"empty":[],"ram":"536870912","uptime":200})");
  ASSERT_TRUE(v);
  EXPECT_EQ(field(*v, "name"), "a");
  EXPECT_EQ(field(*v, "n"), "3");
  EXPECT_EQ(field(*v, "missing"), "-");
  EXPECT_EQ(joined(*v, "list"), "x,y");
  EXPECT_EQ(joined(*v, "empty"), "-");
  EXPECT_EQ(shown(*v, "ram"), "512M");
  EXPECT_EQ(shown(*v, "uptime"), "3m20s");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(512), "512 B");
}
