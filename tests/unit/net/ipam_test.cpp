// ipam_test.cpp — the allocator, lease JSON and port-forward parsing.
#include "berth/net/ipam.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

Network net29() {
  Network n;
  n.name = "t";
  n.v4 = Subnet{*parse_cidr("198.18.3.0/29"), {}};
  n.v6 = Subnet{*parse_cidr("fd00:b:3::/64"), {}};
  apply_defaults(n);
  return n;
}

Attachment lease(const std::string& c, const char* v4, const char* v6 = nullptr) {
  Attachment a;
  a.container = c;
  if (v4) a.ipv4 = *parse_ip(v4);
  if (v6) a.ipv6 = *parse_ip(v6);
  return a;
}

TEST(Ipam, LowestFreeSkipsNetworkGatewayAndLeases) {
  Network n = net29();
  LeaseTable t;
  EXPECT_EQ(allocate(n, *n.v4, t, {})->str(), "198.18.3.2");
  t.items.push_back(lease("a", "198.18.3.2"));
  t.items.push_back(lease("b", "198.18.3.4"));
  EXPECT_EQ(allocate(n, *n.v4, t, {})->str(), "198.18.3.3");
  t.items.push_back(lease("c", "198.18.3.3"));
  EXPECT_EQ(allocate(n, *n.v4, t, {})->str(), "198.18.3.5");
  EXPECT_EQ(allocate(n, *n.v6, t, {})->str(), "fd00:b:3::2");
}

TEST(Ipam, ExhaustedPoolIsAClearError) {
  Network n = net29();
  LeaseTable t;
  for (int i = 2; i <= 6; ++i) t.items.push_back(lease("c" + std::to_string(i), ("198.18.3." + std::to_string(i)).c_str()));
  auto r = allocate(n, *n.v4, t, {});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOSPC);
  EXPECT_EQ(r.error().message(), "network t: ipv4: address pool 198.18.3.0/29 is exhausted (5 leases)");
}

TEST(Ipam, StaticAddresses) {
  Network n = net29();
  LeaseTable t;
  t.items.push_back(lease("a", "198.18.3.2"));
  EXPECT_EQ(allocate(n, *n.v4, t, *parse_ip("198.18.3.6"))->str(), "198.18.3.6");
  auto dup = allocate(n, *n.v4, t, *parse_ip("198.18.3.2"));
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().code(), EADDRINUSE);
  EXPECT_EQ(dup.error().message(), "network t: ipv4: 198.18.3.2 is already leased to a");
  EXPECT_NE(allocate(n, *n.v4, t, *parse_ip("198.18.4.2")).error().message().find("not inside"), std::string::npos);
  for (const char* reserved : {"198.18.3.0", "198.18.3.1", "198.18.3.7"})
    EXPECT_NE(allocate(n, *n.v4, t, *parse_ip(reserved)).error().message().find("gateway"), std::string::npos)
        << reserved;
}

TEST(Ipam, LeaseTableJsonRoundTrip) {
  LeaseTable t;
  Attachment a = lease("web-1", "198.18.3.2", "fd00:b:3::2");
  a.netns = "/run/netns/web-1";
  a.host_if = "bv0123456789ab";
  a.mac = "02:00:00:00:00:01";
  a.ports = {{"tcp", 8080, 80}, {"udp", 53, 5353}};
  a.rate_in = 1000;
  a.own_netns = true;
  t.items.push_back(a);
  auto back = lease_table_from_json(to_json(t));
  ASSERT_TRUE(back) << back.error().message();
  ASSERT_EQ(back->items.size(), 1u);
  EXPECT_EQ(json::dump(to_json(*back)), json::dump(to_json(t)));
  EXPECT_EQ(back->items[0].ports[1], (PortForward{"udp", 53, 5353}));
  EXPECT_EQ(back->owner_of(*parse_ip("fd00:b:3::2")), &back->items[0]);
  EXPECT_EQ(back->find("web-1"), &back->items[0]);
  EXPECT_EQ(back->find("web-2"), nullptr);
}

TEST(Ipam, LeaseJsonErrors) {
  EXPECT_FALSE(lease_table_from_json(*json::parse(R"({})")));
  auto bad_ip = lease_table_from_json(*json::parse(R"({"attachments":[{"container":"c","ipv4":"1.2.3"}]})"));
  ASSERT_FALSE(bad_ip);
  EXPECT_NE(bad_ip.error().message().find("attachment c.ipv4"), std::string::npos);
  EXPECT_FALSE(lease_table_from_json(*json::parse(R"({"attachments":[{"ipv4":"1.2.3.4"}]})")));
}

TEST(Ipam, PortForwards) {
  EXPECT_EQ(*parse_port_forward("8080:80"), (PortForward{"tcp", 8080, 80}));
  EXPECT_EQ(*parse_port_forward("udp:53:5353"), (PortForward{"udp", 53, 5353}));
  for (const char* bad : {"", "80", "tcp:80", "sctp:1:2", "0:80", "65536:80", "80:x", "80:80:80"})
    EXPECT_FALSE(parse_port_forward(bad)) << bad;
}

}  // namespace
}  // namespace berth::net
