// digest_test.cpp — digest parsing and SHA-256.
#include "berth/images/digest.h"

#include <gtest/gtest.h>

#include <vector>

namespace berth::images {
namespace {

const std::string kAbc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST(Digest, ParsesSha256) {
  auto d = Digest::parse("sha256:" + kAbc);
  ASSERT_TRUE(d) << d.error().what();
  EXPECT_EQ(d->hex(), kAbc);
  EXPECT_EQ(d->str(), "sha256:" + kAbc);
  EXPECT_EQ(d->short_str(), "sha256:ba7816bf8f01");
}

TEST(Digest, RejectsMalformedNamingTheField) {
  for (const std::string& bad : std::vector<std::string>{"", "sha256", "sha256:", "sha256:" + kAbc.substr(1), "sha256:" + kAbc + "0",
                          "SHA256:" + kAbc, "sha512:" + kAbc, "sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
                          "sha256:" + kAbc.substr(0, 63) + "g"}) {
    auto d = Digest::parse(bad, "layers[3].digest");
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.error().what().rfind("layers[3].digest: ", 0), 0u) << d.error().what();
  }
}

TEST(Digest, UnsupportedAlgorithmIsNamed) {
  auto d = Digest::parse("sha512:abcd", "config.digest");
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().what().find("unsupported digest algorithm \"sha512\""), std::string::npos);
}

TEST(Sha256, KnownVectorsAndStreaming) {
  EXPECT_EQ(sha256_of("abc").hex(), kAbc);
  EXPECT_EQ(sha256_of("").hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 h;
  h.update("a");
  h.update("");
  h.update("bc");
  EXPECT_EQ(h.finish().hex(), kAbc);
}

}  // namespace
}  // namespace berth::images
