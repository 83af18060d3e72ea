// strings_test.cpp — split keeps empty fields and never drops the last.
#include "berth/base/strings.h"

#include <gtest/gtest.h>

#include <string_view>
#include <vector>

using berth::split;
using V = std::vector<std::string_view>;

TEST(Split, FieldsBetweenSeparators) {
  EXPECT_EQ(split("a,b,c", ','), (V{"a", "b", "c"}));
  EXPECT_EQ(split("a", ','), (V{"a"}));
  EXPECT_EQ(split("", ','), (V{""}));
  EXPECT_EQ(split("a,,b,", ','), (V{"a", "", "b", ""}));
  EXPECT_EQ(split(",", ','), (V{"", ""}));
  EXPECT_EQ(split("x:y", ':'), (V{"x", "y"}));
}

TEST(Strings, UsageLines) {
  const char* usage =
      "usage: tool COMMAND\n"
      "  create NAME [--size S]\n"
      "              [--more M]\n"
      "  start|stop NAME\n"
      "  ls | rm TAG | prune\n"
      "  list [--json]   status NAME   metrics\n"
      "notes: none\n";
  EXPECT_EQ(berth::usage_lines(usage, "create"), "  create NAME [--size S]\n              [--more M]\n");
  EXPECT_EQ(berth::usage_lines(usage, "stop"), "  start|stop NAME\n");
  EXPECT_EQ(berth::usage_lines(usage, "rm"), "  ls | rm TAG | prune\n");
  EXPECT_EQ(berth::usage_lines(usage, "prune"), "  ls | rm TAG | prune\n");
  EXPECT_EQ(berth::usage_lines(usage, "status"), "  list [--json]   status NAME   metrics\n");
  EXPECT_EQ(berth::usage_lines(usage, "metrics"), "  list [--json]   status NAME   metrics\n");
  EXPECT_EQ(berth::usage_lines(usage, "size"), "");
  EXPECT_EQ(berth::usage_lines(usage, "notes"), "");
}
