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
