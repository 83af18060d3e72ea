// firewall_test.cpp — the rendered nft script.
#include "berth/net/firewall.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

bool has(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

NetworkState state(Mode mode) {
  NetworkState ns;
  ns.network.name = mode == Mode::routed ? "r" : "b";
  ns.network.mode = mode;
  ns.network.v4 = Subnet{*parse_cidr("198.18.1.0/24"), *parse_ip("198.18.1.1")};
  ns.network.v6 = Subnet{*parse_cidr("fd00:b:1::/64"), *parse_ip("fd00:b:1::1")};
  Attachment a;
  a.container = "c1";
  a.host_if = "bv0123456789ab";
  a.ipv4 = *parse_ip("198.18.1.2");
  a.ipv6 = *parse_ip("fd00:b:1::2");
  a.ports = {{"tcp", 8080, 80}};
  ns.leases.items.push_back(a);
  return ns;
}

TEST(Firewall, NothingButTheDeleteWithoutNetworks) {
  EXPECT_EQ(render_ruleset({}), "add table inet berth\ndelete table inet berth\n");
}

TEST(Firewall, BridgedNatAndForwards) {
  std::string s = render_ruleset({state(Mode::bridged)});
  EXPECT_TRUE(s.starts_with("add table inet berth\ndelete table inet berth\ntable inet berth {\n"));
  EXPECT_TRUE(has(s, "ip saddr 198.18.1.0/24 ip daddr != 198.18.1.0/24 masquerade comment \"b\""));
  EXPECT_TRUE(has(s, "ip6 saddr fd00:b:1::/64 ip6 daddr != fd00:b:1::/64 masquerade"));
  EXPECT_TRUE(has(s, "meta nfproto ipv4 fib daddr type local tcp dport 8080 dnat ip to 198.18.1.2:80 comment \"c1\""));
  EXPECT_TRUE(has(s, "dnat ip6 to [fd00:b:1::2]:80"));
  EXPECT_FALSE(has(s, "iifname"));  // no anti-spoofing on a bridge
}

TEST(Firewall, RoutedAntiSpoofing) {
  NetworkState ns = state(Mode::routed);
  ns.network.nat = false;
  std::string s = render_ruleset({ns});
  EXPECT_FALSE(has(s, "masquerade"));
  EXPECT_TRUE(has(s, "iifname \"bv0123456789ab\" meta nfproto ipv4 ip saddr != 198.18.1.2 drop"));
  EXPECT_TRUE(has(s, "iifname \"bv0123456789ab\" meta nfproto ipv6 ip6 saddr != { fe80::/10, fd00:b:1::2 } drop"));
}

TEST(Firewall, RoutedWithoutIpv6DropsAllButLinkLocal) {
  NetworkState ns = state(Mode::routed);
  ns.leases.items[0].ipv6.reset();
  std::string s = render_ruleset({ns});
  EXPECT_TRUE(has(s, "ip6 saddr != { fe80::/10 } drop"));
}

}  // namespace
}  // namespace berth::net
