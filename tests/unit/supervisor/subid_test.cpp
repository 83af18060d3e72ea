// subid_test.cpp — id ranges from /etc/subuid and /etc/subgid.
#include <gtest/gtest.h>

#include "berth/supervisor/subid.h"

using namespace berth::supervisor;

namespace {
constexpr uint64_t kSize = 65536;
constexpr uint64_t kFirst = uint64_t{1} << 24;
}  // namespace

TEST(SubIds, ParsesOwnAndOthers) {
  auto s = parse_subids("# comment\nroot:1000000:1000000000\nalice:100000:65536\n0:5000000:65536\nbad line\nbob:x:1\nc:1:0\n",
                        "root", "0");
  ASSERT_EQ(s.own.size(), 2u);
  EXPECT_EQ(s.own[0].start, 1000000u);
  EXPECT_EQ(s.own[0].count, 1000000000u);
  EXPECT_EQ(s.own[1].start, 5000000u);
  ASSERT_EQ(s.others.size(), 1u);
  EXPECT_EQ(s.others[0].start, 100000u);
  EXPECT_TRUE(parse_subids("", "root", "0").own.empty());
}

TEST(SubIds, InsideRootsRanges) {
  // Incus's usual line: aligned up to the first multiple of 65536.
  SubIds root = parse_subids("root:1000000:1000000000\n", "root", "0");
  EXPECT_EQ(*pick_id_range(root, root, {}, kFirst, kSize), 1048576u);
  EXPECT_EQ(*pick_id_range(root, root, {1048576}, kFirst, kSize), 1114112u);
  // Room for two: the third is refused.
  SubIds two = parse_subids("root:2000027648:131072\n", "root", "0");
  EXPECT_EQ(*pick_id_range(two, two, {}, kFirst, kSize), 2000027648u);
  EXPECT_EQ(*pick_id_range(two, two, {2000027648u}, kFirst, kSize), 2000093184u);
  EXPECT_FALSE(pick_id_range(two, two, {2000027648u, 2000093184u}, kFirst, kSize));
  // An unaligned start: 131072 ids from 2000000000 hold one aligned block.
  SubIds odd = parse_subids("root:2000000000:131072\n", "root", "0");
  EXPECT_EQ(*pick_id_range(odd, odd, {}, kFirst, kSize), 2000027648u);
  EXPECT_FALSE(pick_id_range(odd, odd, {2000027648u}, kFirst, kSize));
  // The block must be in root's subgid ranges too.
  SubIds gid = parse_subids("root:3000000000:65536\n", "root", "0");
  EXPECT_FALSE(pick_id_range(root, gid, {}, kFirst, kSize));
}

TEST(SubIds, ClearOfOtherUsers) {
  SubIds none;
  EXPECT_EQ(*pick_id_range(none, none, {}, kFirst, kSize), kFirst);
  EXPECT_EQ(*pick_id_range(none, none, {static_cast<uint32_t>(kFirst)}, kFirst, kSize), kFirst + kSize);
  // rootless podman's user owns 2^24 .. 2^24 + 100000: skipped whole.
  SubIds alice = parse_subids("alice:16777216:100000\n", "root", "0");
  EXPECT_EQ(*pick_id_range(alice, none, {}, kFirst, kSize), kFirst + 2 * kSize);
  EXPECT_EQ(*pick_id_range(none, alice, {}, kFirst, kSize), kFirst + 2 * kSize);
  // Nothing left below 2^32.
  SubIds all = parse_subids("alice:16777216:4278190080\n", "root", "0");
  EXPECT_FALSE(pick_id_range(all, none, {}, kFirst, kSize));
}
