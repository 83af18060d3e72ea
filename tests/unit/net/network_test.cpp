// network_test.cpp — network defaults, validation and JSON round trips.
#include "berth/net/network.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

Network bridged(const std::string& name, const char* v4, const char* v6 = nullptr) {
  Network n;
  n.name = name;
  if (v4) n.v4 = Subnet{*parse_cidr(v4), {}};
  if (v6) n.v6 = Subnet{*parse_cidr(v6), {}};
  apply_defaults(n);
  return n;
}

std::string error_of(const Status& st) { return st ? "" : st.error().message(); }

TEST(Network, DefaultsGatewayAndBridge) {
  Network n = bridged("web", "198.18.1.0/24", "fd00:b:1::/64");
  EXPECT_EQ(n.v4->gateway.str(), "198.18.1.1");
  EXPECT_EQ(n.v6->gateway.str(), "fd00:b:1::1");
  EXPECT_EQ(n.bridge, "bb-web");
  EXPECT_TRUE(validate(n));
}

TEST(Network, ErrorsNameNetworkAndField) {
  Network n = bridged("a-very-long-network-name", "198.18.1.0/24");
  EXPECT_EQ(error_of(validate(n)), "network a-very-long-network-name: bridge: a bridged network needs a bridge name");
  n.bridge = "abcdefghijklmnopq";
  EXPECT_NE(error_of(validate(n)).find("network a-very-long-network-name: bridge: interface name"), std::string::npos);

  Network h = bridged("h", "198.18.1.5/24");
  EXPECT_EQ(error_of(validate(h)), "network h: subnet4: 198.18.1.5/24 has host bits set (did you mean 198.18.1.0/24?)");
  Network g = bridged("g", "198.18.1.0/24");
  g.v4->gateway = *parse_ip("198.18.2.1");
  EXPECT_EQ(error_of(validate(g)), "network g: gateway4: 198.18.2.1 is not inside 198.18.1.0/24");
  Network f = bridged("f", nullptr);
  f.v4 = Subnet{*parse_cidr("fd00::/64"), *parse_ip("fd00::1")};
  EXPECT_EQ(error_of(validate(f)), "network f: subnet4: expected an IPv4 prefix");
  Network none = bridged("none", nullptr);
  EXPECT_NE(error_of(validate(none)).find("network none: subnet"), std::string::npos);
  Network bad_name = bridged("x/y", "198.18.1.0/24");
  EXPECT_NE(error_of(validate(bad_name)).find(": name: "), std::string::npos);
  Network dns = bridged("d", "198.18.1.0/24");
  dns.dns = {"198.18.1.1", "nope"};
  EXPECT_NE(error_of(validate(dns)).find("network d: dns[1]: "), std::string::npos);
  Network routed = bridged("r", "198.18.1.0/24");
  routed.mode = Mode::routed;
  EXPECT_EQ(error_of(validate(routed)), "network r: bridge: a routed network has no bridge");
  routed.bridge.clear();
  EXPECT_TRUE(validate(routed));
  Network tiny = bridged("t", "198.18.1.0/31");
  EXPECT_NE(error_of(validate(tiny)).find("too small"), std::string::npos);
}

TEST(Network, OverlapsAndSharedBridges) {
  std::vector<Network> existing = {bridged("a", "198.18.0.0/16", "fd00:b::/48")};
  EXPECT_EQ(error_of(validate_against(bridged("b", "198.18.7.0/24"), existing)),
            "network b: subnet4: 198.18.7.0/24 overlaps 198.18.0.0/16 of network a");
  EXPECT_EQ(error_of(validate_against(bridged("b", "198.19.0.0/24", "fd00:b:0:1::/64"), existing)),
            "network b: subnet6: fd00:b:0:1::/64 overlaps fd00:b::/48 of network a");
  EXPECT_NE(error_of(validate_against(bridged("a", "198.19.0.0/24"), existing)).find("already exists"), std::string::npos);
  Network same_bridge = bridged("b", "198.19.0.0/24");
  same_bridge.bridge = "bb-a";
  EXPECT_EQ(error_of(validate_against(same_bridge, existing)), "network b: bridge: bb-a already belongs to network a");
  EXPECT_TRUE(validate_against(bridged("b", "198.19.0.0/24", "fd00:c::/64"), existing));
}

TEST(Network, JsonRoundTrip) {
  Network n = bridged("web", "198.18.1.0/24", "fd00:b:1::/64");
  n.dns = {"198.18.1.1"};
  n.search = {"example.test"};
  n.mtu = 9000;
  n.nat = false;
  auto back = network_from_json(to_json(n));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(json::dump(to_json(*back)), json::dump(to_json(n)));
}

TEST(Network, UplinkOnlyForRoutedNetworks) {
  Network n = bridged("u", "198.18.1.0/24");
  n.uplink = "eth0";
  EXPECT_EQ(error_of(validate(n)), "network u: uplink: only a routed network has an uplink");
  n.mode = Mode::routed;
  n.bridge.clear();
  EXPECT_TRUE(validate(n));
  auto back = network_from_json(to_json(n));
  ASSERT_TRUE(back) << back.error().message();
  EXPECT_EQ(back->uplink, "eth0");
  n.uplink = "an-uplink-name-too-long";
  EXPECT_NE(error_of(validate(n)).find("network u: uplink: interface name"), std::string::npos);
}

TEST(Network, JsonErrorsNameField) {
  auto v = json::parse(R"({"name":"n","mode":"venet","subnet4":"198.18.1.0/24"})");
  EXPECT_EQ(network_from_json(*v).error().message(), "network n: mode: \"venet\" is not bridged or routed");
  v = json::parse(R"({"name":"n","subnet4":"198.18.1.0/99"})");
  EXPECT_NE(network_from_json(*v).error().message().find("network n: subnet4: "), std::string::npos);
  v = json::parse(R"({"name":"n","subnet4":"198.18.1.0/24","mtu":"big"})");
  EXPECT_NE(network_from_json(*v).error().message().find("network n: mtu: "), std::string::npos);
  v = json::parse(R"({"subnet4":"198.18.1.0/24"})");
  EXPECT_EQ(network_from_json(*v).error().message(), "network \"\": name: missing");
}

}  // namespace
}  // namespace berth::net
