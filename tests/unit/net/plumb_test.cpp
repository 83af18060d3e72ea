// plumb_test.cpp — what attach makes on both sides of the veth, per mode,
// and what detach removes, checked call by call with a recording fake.
#include "plumb.h"

#include <gtest/gtest.h>

#include "fake_links.h"

namespace berth::net {
namespace {

Network net(Mode mode) {
  Network n;
  n.name = "n";
  n.mode = mode;
  n.v4 = Subnet{*parse_cidr("198.18.1.0/24"), {}};
  n.v6 = Subnet{*parse_cidr("fd00:b:1::/64"), {}};
  apply_defaults(n);
  if (mode == Mode::routed) n.bridge.clear();
  return n;
}

Attachment att() {
  Attachment a;
  a.container = "c1";
  a.host_if = "bv0123456789ab";
  a.mac = "02:00:00:00:00:01";
  a.ipv4 = *parse_ip("198.18.1.2");
  a.ipv6 = *parse_ip("fd00:b:1::2");
  return a;
}

TEST(Plumb, Bridged) {
  FakeLinks host, ctr;
  host.index["bb-n"] = 2;
  ctr.index["lo"] = 1;
  ctr.index["eth0"] = 3;  // where the fake's veth peer would be
  ASSERT_TRUE(plumb(host, ctr, -1, net(Mode::bridged), att()));
  EXPECT_EQ(host.calls, (std::vector<std::string>{
                            "veth bv0123456789ab peer eth0 mtu 1500 master bb-n mac 02:00:00:00:00:01"}));
  EXPECT_EQ(ctr.calls, (std::vector<std::string>{
                           "up lo", "up eth0", "addr 198.18.1.2/24 eth0", "route 0.0.0.0/0 dev eth0 via 198.18.1.1",
                           "addr fd00:b:1::2/64 eth0", "route ::/0 dev eth0 via fd00:b:1::1"}));
}

TEST(Plumb, GuestConfiguredGetsTheLinkOnly) {
  FakeLinks host, ctr;
  host.index["bb-n"] = 2;
  ctr.index["eth0"] = 3;
  Attachment a = att();
  a.guest_config = true;
  ASSERT_TRUE(plumb(host, ctr, -1, net(Mode::bridged), a));
  EXPECT_EQ(ctr.calls, (std::vector<std::string>{"up lo", "up eth0"}));
  EXPECT_EQ(host.calls.size(), 1u);
}

TEST(Plumb, RoutedWithUplinkAndLimits) {
  FakeLinks host, ctr;
  ctr.index["eth0"] = 3;
  Network n = net(Mode::routed);
  n.uplink = "up0";
  Attachment a = att();
  a.rate_in = 1000000;
  a.rate_out = 500000;
  ASSERT_TRUE(plumb(host, ctr, -1, n, a));
  EXPECT_EQ(ctr.calls, (std::vector<std::string>{"up lo", "up eth0", "addr 198.18.1.2/32 eth0", "route 0.0.0.0/0 dev eth0",
                                                 "addr fd00:b:1::2/128 eth0", "route ::/0 dev eth0 via fe80::1 onlink"}));
  EXPECT_EQ(host.calls, (std::vector<std::string>{
                            "veth bv0123456789ab peer eth0 mtu 1500 mac 02:00:00:00:00:01",
                            "proxy 198.18.1.2 up0",
                            "proxy fd00:b:1::2 up0",
                            "sysctl net/ipv4/conf/bv0123456789ab/proxy_arp=1",
                            "sysctl net/ipv4/neigh/bv0123456789ab/proxy_delay=0",
                            "route 198.18.1.2/32 dev bv0123456789ab",
                            "addr fe80::1/64 bv0123456789ab",
                            "route fd00:b:1::2/128 dev bv0123456789ab",
                            "tbf bv0123456789ab 1000000",
                            "ifb bi0123456789ab",
                            "redirect bv0123456789ab bi0123456789ab",
                            "tbf bi0123456789ab 500000",
                        }));
}

TEST(Plumb, ErrorsSayWhere) {
  FakeLinks host, ctr;
  ctr.index["eth0"] = 3;
  ctr.fail_on = "route ::/0";
  auto st = plumb(host, ctr, -1, net(Mode::bridged), att());
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), EIO);
  EXPECT_EQ(st.error().message(), "in container: route ::/0 dev eth0 via fd00:b:1::1");
}

TEST(Plumb, RemoveLinks) {
  FakeLinks host;
  Network n = net(Mode::routed);
  n.uplink = "up0";
  Attachment a = att();
  ASSERT_TRUE(remove_links(host, n, a));
  EXPECT_EQ(host.calls, (std::vector<std::string>{"noproxy 198.18.1.2 up0", "noproxy fd00:b:1::2 up0",
                                                  "del bv0123456789ab"}));
  host.calls.clear();
  a.rate_out = 1;
  ASSERT_TRUE(remove_links(host, net(Mode::bridged), a));
  EXPECT_EQ(host.calls, (std::vector<std::string>{"del bv0123456789ab", "del bi0123456789ab"}));
}

}  // namespace
}  // namespace berth::net
