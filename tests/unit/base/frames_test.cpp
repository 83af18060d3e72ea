// frames_test.cpp — the frames of a terminal session: encoding, partial
// input, bad kinds and lengths.
#include "berth/base/frames.h"

#include <gtest/gtest.h>

using namespace berth;

TEST(Frames, EncodeAndTake) {
  std::string buf = frames::encode(frames::Kind::input, "ls\r") + frames::resize(40, 132);
  EXPECT_EQ(buf.substr(0, 8), std::string("i\0\0\0\3ls\r", 8));
  auto f = frames::take(buf);
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->kind, frames::Kind::input);
  EXPECT_EQ((*f)->payload, "ls\r");
  f = frames::take(buf);
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->kind, frames::Kind::resize);
  auto rc = frames::parse_resize((*f)->payload);
  ASSERT_TRUE(rc);
  EXPECT_EQ(rc->first, 40);
  EXPECT_EQ(rc->second, 132);
  EXPECT_TRUE(buf.empty());
  f = frames::take(buf);
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
}

TEST(Frames, PartialFrameWaits) {
  std::string whole = frames::encode(frames::Kind::output, std::string(300, 'x'));
  std::string buf;
  for (size_t i = 0; i + 1 < whole.size(); ++i) {
    buf.push_back(whole[i]);
    auto f = frames::take(buf);
    ASSERT_TRUE(f);
    ASSERT_FALSE(*f) << "at " << i;
  }
  buf.push_back(whole.back());
  auto f = frames::take(buf);
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->payload.size(), 300u);
  std::string empty = frames::encode(frames::Kind::input_end, "");
  f = frames::take(empty);
  ASSERT_TRUE(f && *f);
  EXPECT_EQ((*f)->kind, frames::Kind::input_end);
}

TEST(Frames, BadStreamsAreErrors) {
  std::string bad("z\0\0\0\0", 5);  // an unknown kind, a whole header
  EXPECT_FALSE(frames::take(bad));
  std::string huge("o\x7f\xff\xff\xff", 5);
  EXPECT_FALSE(frames::take(huge));
  EXPECT_FALSE(frames::parse_resize("abc"));
}
