// host_port_test.cpp — "HOST:PORT" for --listen-tcp and --remote: IPv4,
// bracketed IPv6, names, and what is refused.
#include "berth/base/host_port.h"

#include <gtest/gtest.h>

using namespace berth;

TEST(HostPort, Ipv4AndName) {
  auto a = parse_host_port("127.0.0.1:8443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 8443);
  EXPECT_FALSE(a->ipv6);
  auto n = parse_host_port("node1.example:1");
  ASSERT_TRUE(n);
  EXPECT_EQ(n->host, "node1.example");
  EXPECT_EQ(n->port, 1);
  EXPECT_EQ(to_string(*a), "127.0.0.1:8443");
}

TEST(HostPort, BracketedIpv6) {
  auto a = parse_host_port("[::1]:65535");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 65535);
  EXPECT_TRUE(a->ipv6);
  EXPECT_EQ(to_string(*a), "[::1]:65535");
  EXPECT_TRUE(parse_listen_address("[::]:443"));
}

TEST(HostPort, Refused) {
  for (const char* bad : {"", "127.0.0.1", "127.0.0.1:", ":80", "host:0", "host:65536", "host:80x", "host:-1", "::1:80",
                          "[::1]", "[::1]80", "[::1:80", "[nothost]:80", "[]:80", "host:123456"}) {
    auto a = parse_host_port(bad);
    ASSERT_FALSE(a) << bad;
    EXPECT_NE(a.error().what().find("address"), std::string::npos) << a.error().what();
  }
}

TEST(HostPort, ListenNeedsALiteral) {
  EXPECT_TRUE(parse_listen_address("0.0.0.0:8443"));
  auto a = parse_listen_address("localhost:8443");
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().what().find("not a name"), std::string::npos);
  EXPECT_FALSE(parse_listen_address("300.1.1.1:80"));
}
