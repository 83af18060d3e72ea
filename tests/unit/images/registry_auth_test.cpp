// registry_auth_test.cpp — credentials and WWW-Authenticate parsing.
#include <gtest/gtest.h>

#include "berth/base/fs.h"
#include "berth/images/registry.h"
#include "tar_builder.h"

namespace berth::images {
namespace {

std::vector<AuthChallenge> parsed(std::string_view h) {
  auto r = parse_www_authenticate(h);
  EXPECT_TRUE(r) << h << ": " << r.error().what();
  return r ? *r : std::vector<AuthChallenge>{};
}

TEST(Credentials, UserColonPassword) {
  auto c = parse_credentials("berth:pa:ss");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->username, "berth");
  EXPECT_EQ(c->password, "pa:ss");
  EXPECT_EQ(parse_credentials("nocolon", "--creds").error().what(), "--creds: expected user:password (no ':' found)");
  EXPECT_EQ(parse_credentials(":pw", "--creds").error().what(), "--creds: empty user name before ':'");
  // The password never shows in an error.
  std::string e = parse_credentials("u:sec\x01ret", "--creds").error().what();
  EXPECT_EQ(e, "--creds: password holds a control character");
}

TEST(Credentials, FromFile) {
  std::string dir = testing::make_temp_dir("creds");
  ASSERT_TRUE(fs::write_file_atomic(dir + "/c", "user:pw\n"));
  auto c = read_credentials_file(dir + "/c");
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->password, "pw");
  auto missing = read_credentials_file(dir + "/none");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().what().find(dir + "/none"), std::string::npos);
  EXPECT_TRUE(testing::remove_temp_dir(dir));
}

TEST(WwwAuthenticate, BearerWithRealmServiceScope) {
  auto v = parsed(R"(Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push")");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].scheme, "bearer");
  ASSERT_TRUE(v[0].param("realm"));
  EXPECT_EQ(*v[0].param("realm"), "https://auth.example/token");
  EXPECT_EQ(*v[0].param("service"), "registry.example");
  EXPECT_EQ(*v[0].param("scope"), "repository:a/b:pull,push");  // a comma inside quotes
  EXPECT_EQ(v[0].param("error"), nullptr);
}

TEST(WwwAuthenticate, BasicTokensSpacesAndCase) {
  auto v = parsed(R"(BASIC Realm = berth-test , charset="UTF-8")");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].scheme, "basic");
  EXPECT_EQ(*v[0].param("realm"), "berth-test");
  EXPECT_EQ(*v[0].param("charset"), "UTF-8");
}

TEST(WwwAuthenticate, SeveralChallengesAndEscapes) {
  auto v = parsed(R"(Basic realm="a \"quoted\" realm", Bearer realm="https://t/x",error="insufficient_scope", Negotiate)");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(*v[0].param("realm"), "a \"quoted\" realm");
  EXPECT_EQ(v[1].scheme, "bearer");
  EXPECT_EQ(*v[1].param("error"), "insufficient_scope");
  EXPECT_EQ(v[2].scheme, "negotiate");
  EXPECT_TRUE(v[2].params.empty());
}

TEST(WwwAuthenticate, Token68) {
  auto v = parsed("Negotiate dGVzdA==, Basic realm=x");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].token68, "dGVzdA==");
  EXPECT_EQ(*v[1].param("realm"), "x");
}

TEST(WwwAuthenticate, ErrorsSayWhere) {
  EXPECT_EQ(parse_www_authenticate("").error().what(), "WWW-Authenticate: no challenge");
  EXPECT_EQ(parse_www_authenticate(R"(Bearer realm="open)").error().what(),
            "WWW-Authenticate: column 14: unterminated quoted string");
  EXPECT_EQ(parse_www_authenticate("Bearer a=b, realm=").error().what(),
            "WWW-Authenticate: column 13: auth-param without a value");
  EXPECT_EQ(parse_www_authenticate(R"(Bearer realm="a" service="b")").error().what(),
            "WWW-Authenticate: column 18: expected ',' between parameters");
  EXPECT_EQ(parse_www_authenticate("\"x\"").error().what(), "WWW-Authenticate: column 1: expected an auth scheme");
  EXPECT_FALSE(parse_www_authenticate(std::string(20000, 'a')));
}

}  // namespace
}  // namespace berth::images
