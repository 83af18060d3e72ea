// reference_test.cpp — image reference parsing and its defaults.
#include "berth/images/reference.h"

#include <gtest/gtest.h>

namespace berth::images {
namespace {

std::string hex(char c) { return std::string(64, c); }

Reference parsed(std::string_view text) {
  auto r = parse_reference(text);
  EXPECT_TRUE(r) << text << ": " << r.error().what();
  return r ? *r : Reference{};
}

std::string error_of(std::string_view text) {
  auto r = parse_reference(text);
  EXPECT_FALSE(r) << text << " parsed as " << (r ? r->str() : "");
  return r ? "" : r.error().what();
}

TEST(Reference, DefaultsToDockerHubLibraryAndLatest) {
  Reference r = parsed("busybox");
  EXPECT_EQ(r.registry, "docker.io");
  EXPECT_EQ(r.repository, "library/busybox");
  EXPECT_EQ(r.tag, "latest");
  EXPECT_FALSE(r.digest);
  EXPECT_EQ(r.str(), "docker.io/library/busybox:latest");
  EXPECT_EQ(r.manifest_ref(), "latest");
  EXPECT_EQ(parsed("team/app:1.0").str(), "docker.io/team/app:1.0");
  EXPECT_EQ(parsed("index.docker.io/library/alpine").str(), "docker.io/library/alpine:latest");
}

TEST(Reference, RegistryHostsPortsAndPaths) {
  Reference r = parsed("127.0.0.1:5000/test/busybox:multi");
  EXPECT_EQ(r.registry, "127.0.0.1:5000");
  EXPECT_EQ(r.repository, "test/busybox");
  EXPECT_EQ(r.tag, "multi");
  EXPECT_EQ(parsed("localhost/app").registry, "localhost");
  EXPECT_EQ(parsed("localhost/app").repository, "app");  // no library/ outside docker.io
  EXPECT_EQ(parsed("ghcr.io/org/team/tool:v1.2.3-rc.1").repository, "org/team/tool");
  EXPECT_EQ(parsed("[::1]:5000/a/b").registry, "[::1]:5000");
  EXPECT_EQ(parsed("registry.example.com:443/a").name(), "registry.example.com:443/a");
  // A first component without '.', ':' or "localhost" is a path, not a host.
  EXPECT_EQ(parsed("myhost/app").str(), "docker.io/myhost/app:latest");
}

TEST(Reference, Digests) {
  Reference r = parsed("busybox@sha256:" + hex('a'));
  EXPECT_TRUE(r.tag.empty());
  ASSERT_TRUE(r.digest);
  EXPECT_EQ(r.manifest_ref(), "sha256:" + hex('a'));
  EXPECT_EQ(r.str(), "docker.io/library/busybox@sha256:" + hex('a'));
  Reference both = parsed("reg.io:5000/a/b:1.0@sha256:" + hex('b'));
  EXPECT_EQ(both.tag, "1.0");
  EXPECT_EQ(both.manifest_ref(), "sha256:" + hex('b'));  // the digest wins
  EXPECT_EQ(both.str(), "reg.io:5000/a/b:1.0@sha256:" + hex('b'));
}

TEST(Reference, SeparatorsInComponents) {
  EXPECT_EQ(parsed("x/a.b_c__d---e/f").repository, "x/a.b_c__d---e/f");
  EXPECT_NE(error_of("a..b").find("separator \"..\""), std::string::npos);
  EXPECT_NE(error_of("a___b").find("separator \"___\""), std::string::npos);
  EXPECT_NE(error_of("-ab").find("must start and end with [a-z0-9]"), std::string::npos);
}

TEST(Reference, ErrorsNameTheReference) {
  EXPECT_EQ(error_of("Busybox"), "image reference \"Busybox\": repository must be lowercase");
  EXPECT_EQ(error_of(""), "image reference \"\": empty");
  EXPECT_EQ(error_of("busybox:"), "image reference \"busybox:\": tag \"\" (expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
  EXPECT_EQ(error_of("busybox:.x"), "image reference \"busybox:.x\": tag \".x\" (expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
  EXPECT_NE(error_of("busybox:" + std::string(129, 'a')).find("tag \""), std::string::npos);
  EXPECT_EQ(error_of("busybox@sha256:abc"),
            "image reference \"busybox@sha256:abc\": digest: expected 64 lowercase hex digits after \"sha256:\", got \"abc\"");
  EXPECT_EQ(error_of("busybox@md5:" + hex('a')).find("image reference"), 0u);
  EXPECT_EQ(error_of("a b"), "image reference \"a b\": contains a space, control or non-ASCII character");
  EXPECT_EQ(error_of("reg.io:99999/a"), "image reference \"reg.io:99999/a\": registry port \"99999\" (expected 1-65535)");
  EXPECT_EQ(error_of("reg.io/"), "image reference \"reg.io/\": no repository name");
  EXPECT_NE(error_of("reg.io//a").find("empty path component"), std::string::npos);
  EXPECT_NE(error_of("bad_host.io/a").find("registry host \"bad_host.io\""), std::string::npos);
  EXPECT_NE(error_of("[::1/a").find("unclosed '['"), std::string::npos);
  EXPECT_NE(error_of("reg.io/" + std::string(300, 'a')).find("longer than 255"), std::string::npos);
}

TEST(Reference, EndpointForDockerHub) {
  EXPECT_EQ(registry_endpoint("docker.io"), "registry-1.docker.io");
  EXPECT_EQ(registry_endpoint("127.0.0.1:5000"), "127.0.0.1:5000");
}

}  // namespace
}  // namespace berth::images
