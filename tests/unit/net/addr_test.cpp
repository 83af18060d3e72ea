// addr_test.cpp — IP, CIDR and MAC parsing, prefix arithmetic, interface names.
#include "berth/net/addr.h"

#include <gtest/gtest.h>

namespace berth::net {
namespace {

TEST(Addr, ParsesAndFormatsBothFamilies) {
  EXPECT_EQ(parse_ip("198.18.0.1")->str(), "198.18.0.1");
  EXPECT_TRUE(parse_ip("198.18.0.1")->is_v4());
  EXPECT_EQ(parse_ip("fd00:0:0::1")->str(), "fd00::1");
  EXPECT_TRUE(parse_ip("fd00::1")->is_v6());
  for (const char* bad : {"", "1.2.3", "1.2.3.256", "fd00::1::2", "x", "1.2.3.4/24", " 1.2.3.4"})
    EXPECT_FALSE(parse_ip(bad)) << bad;
}

TEST(Addr, CidrParsing) {
  auto c = parse_cidr("198.18.1.0/24");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->prefix, 24);
  EXPECT_EQ(c->str(), "198.18.1.0/24");
  EXPECT_FALSE(parse_cidr("198.18.1.0"));
  EXPECT_EQ(parse_cidr("198.18.1.7", false)->prefix, 32);
  EXPECT_EQ(parse_cidr("fd00::/64")->prefix, 64);
  for (const char* bad : {"198.18.1.0/33", "fd00::/129", "198.18.1.0/", "198.18.1.0/-1", "198.18.1.0/2x", "/24"})
    EXPECT_FALSE(parse_cidr(bad)) << bad;
  EXPECT_NE(parse_cidr("198.18.1.0/33").error().message().find("bad prefix length"), std::string::npos);
}

TEST(Addr, NetworkContainsOverlaps) {
  Cidr a = *parse_cidr("198.18.1.77/24");
  EXPECT_EQ(a.network().str(), "198.18.1.0/24");
  EXPECT_TRUE(a.contains(*parse_ip("198.18.1.255")));
  EXPECT_FALSE(a.contains(*parse_ip("198.18.2.0")));
  EXPECT_FALSE(a.contains(*parse_ip("fd00::1")));
  EXPECT_TRUE(a.overlaps(*parse_cidr("198.18.1.128/25")));
  EXPECT_TRUE(parse_cidr("198.18.1.128/25")->overlaps(a));
  EXPECT_TRUE(a.overlaps(*parse_cidr("198.18.0.0/15")));
  EXPECT_FALSE(a.overlaps(*parse_cidr("198.18.2.0/24")));
  EXPECT_FALSE(a.overlaps(*parse_cidr("fd00::/8")));
  Cidr b = *parse_cidr("198.18.1.0/23");
  EXPECT_EQ(b.network().str(), "198.18.0.0/23");
}

TEST(Addr, OffsetsBothWays) {
  Cidr c = *parse_cidr("198.18.1.0/24");
  EXPECT_EQ(c.at(1)->str(), "198.18.1.1");
  EXPECT_EQ(c.at(255)->str(), "198.18.1.255");
  EXPECT_FALSE(c.at(256));
  EXPECT_EQ(*c.offset_of(*parse_ip("198.18.1.200")), 200u);
  Cidr w = *parse_cidr("198.18.0.0/15");
  EXPECT_EQ(w.at(256 + 5)->str(), "198.18.1.5");
  EXPECT_EQ(*w.offset_of(*parse_ip("198.19.0.1")), 65537u);
  Cidr v6 = *parse_cidr("fd00:b:1::/64");
  EXPECT_EQ(v6.at(0x1234)->str(), "fd00:b:1::1234");
  EXPECT_EQ(v6.at(UINT64_MAX)->str(), "fd00:b:1:0:ffff:ffff:ffff:ffff");
  EXPECT_EQ(*v6.offset_of(*parse_ip("fd00:b:1::1:0")), 0x10000u);
  EXPECT_FALSE(v6.offset_of(*parse_ip("fd00:b:2::1")));
  Cidr carry = *parse_cidr("198.18.0.0/16");
  EXPECT_EQ(carry.at(0x1ff)->str(), "198.18.1.255");
}

TEST(Addr, MacParsing) {
  EXPECT_EQ(parse_mac("02:42:AC:11:00:02")->str(), "02:42:ac:11:00:02");
  EXPECT_EQ(parse_mac("02-42-ac-11-00-02")->str(), "02:42:ac:11:00:02");
  for (const char* bad : {"", "02:42:ac:11:00", "02:42:ac:11:00:0g", "02:42:ac:11:00:02:03", "0242ac110002xxxxx"})
    EXPECT_FALSE(parse_mac(bad)) << bad;
  EXPECT_NE(parse_mac("01:00:5e:00:00:01").error().message().find("multicast"), std::string::npos);
  EXPECT_FALSE(parse_mac("00:00:00:00:00:00"));
}

TEST(Addr, DerivedMacIsStableLocalUnicast) {
  Mac m = derived_mac("net/c1");
  EXPECT_EQ(m, derived_mac("net/c1"));
  EXPECT_NE(m, derived_mac("net/c2"));
  EXPECT_EQ(m.bytes[0] & 0x03, 0x02);
}

TEST(Addr, InterfaceNames) {
  EXPECT_TRUE(check_ifname("eth0"));
  EXPECT_TRUE(check_ifname("abcdefghijklmno"));  // 15 bytes
  auto long_name = check_ifname("abcdefghijklmnop");
  ASSERT_FALSE(long_name);
  EXPECT_NE(long_name.error().message().find("at most 15"), std::string::npos);
  for (const char* bad : {"", "a/b", "a:b", "a b", ".", ".."}) EXPECT_FALSE(check_ifname(bad)) << bad;
}

TEST(Addr, HostIfnameIsShortAndStable) {
  std::string n = host_ifname("bv", "net", "container-with-a-very-long-id-0123456789abcdef");
  EXPECT_EQ(n.size(), 14u);
  EXPECT_TRUE(check_ifname(n));
  EXPECT_EQ(n, host_ifname("bv", "net", "container-with-a-very-long-id-0123456789abcdef"));
  EXPECT_NE(n, host_ifname("bv", "net2", "container-with-a-very-long-id-0123456789abcdef"));
  // The separator keeps ("ab","c") and ("a","bc") apart.
  EXPECT_NE(host_ifname("bv", "ab", "c"), host_ifname("bv", "a", "bc"));
}

}  // namespace
}  // namespace berth::net
