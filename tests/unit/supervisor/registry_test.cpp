// registry_test.cpp — the in-memory table: names, busy flags.
#include "berth/supervisor/registry.h"

#include <gtest/gtest.h>

using namespace berth;
using namespace berth::supervisor;

TEST(Registry, AddFindRemove) {
  Registry reg;
  Record r;
  r.name = "a";
  ASSERT_TRUE(reg.add(r));
  auto again = reg.add(r);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), EEXIST);
  ASSERT_NE(reg.find("a"), nullptr);
  EXPECT_EQ(reg.find("a")->state, State::stopped);
  EXPECT_EQ(reg.get("b").error().code(), ENOENT);
  reg.remove("a");
  EXPECT_EQ(reg.size(), 0u);
}

TEST(Registry, OneOperationAtATime) {
  Registry reg;
  Record r;
  r.name = "a";
  ASSERT_TRUE(reg.add(r));
  ASSERT_TRUE(reg.acquire("a"));
  auto busy = reg.acquire("a");
  ASSERT_FALSE(busy);
  EXPECT_EQ(busy.error().code(), EBUSY);
  reg.release("a");
  EXPECT_TRUE(reg.acquire("a"));
  EXPECT_EQ(reg.acquire("zz").error().code(), ENOENT);
}
