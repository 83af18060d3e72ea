// frames_test.cpp — the client's terminal frames, byte for byte.
#include "berth/client/frames.h"

#include <gtest/gtest.h>

using namespace berth::client;

TEST(Frames, EncodeAndTake) {
  std::string buf = frames::encode(frames::Kind::output, "hi") + frames::resize(24, 80);
  EXPECT_EQ(buf.substr(0, 7), std::string("o\0\0\0\2hi", 7));
  auto f = frames::take(buf);
  ASSERT_TRUE(f);
  ASSERT_TRUE(*f);
  EXPECT_EQ((*f)->kind, frames::Kind::output);
  EXPECT_EQ((*f)->payload, "hi");
  auto r = frames::take(buf);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->kind, frames::Kind::resize);
  EXPECT_EQ((*r)->payload, std::string("\0\x18\0\x50", 4));
  EXPECT_TRUE(buf.empty());
}

TEST(Frames, IncompleteWaits) {
  std::string buf = frames::encode(frames::Kind::exit, R"({"code":0})");
  std::string part = buf.substr(0, 7);
  auto f = frames::take(part);
  ASSERT_TRUE(f);
  EXPECT_FALSE(*f);
  EXPECT_EQ(part.size(), 7u);
}

TEST(Frames, UnknownKindOrHugePayloadIsAnError) {
  std::string bad("z\0\0\0\0", 5);
  EXPECT_FALSE(frames::take(bad));
  std::string huge("o\xff\xff\xff\xff", 5);
  EXPECT_FALSE(frames::take(huge));
}
