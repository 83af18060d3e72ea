// cni_config_test.cpp — berth-cni's config parser and result objects.
#include "config.h"

#include <gtest/gtest.h>

namespace berth::cni {
namespace {

Config parse_ok(std::string_view text) {
  auto p = parse_config(text);
  if (auto* e = std::get_if<ConfigError>(&p)) ADD_FAILURE() << e->msg;
  return std::get<Config>(p);
}

ConfigError parse_err(std::string_view text) {
  auto p = parse_config(text);
  EXPECT_TRUE(std::holds_alternative<ConfigError>(p));
  return std::holds_alternative<ConfigError>(p) ? std::get<ConfigError>(p) : ConfigError{};
}

TEST(CniConfig, ReadsNetworkAndRuntimeConfig) {
  Config c = parse_ok(R"({"cniVersion":"1.0.0","name":"web","type":"berth-cni","subnet4":"198.18.5.0/24",
    "subnet6":"fd00:b:5::/64","dns":{"nameservers":["198.18.5.1"]},"ipMasq":false,
    "runtimeConfig":{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"UDP"}],
    "bandwidth":{"ingressRate":8000000,"egressRate":16000000},"mac":"02:00:00:00:00:01","ips":["198.18.5.9/24"]}})");
  EXPECT_EQ(c.network.name, "web");
  EXPECT_EQ(c.network.bridge, "bb-web");
  EXPECT_EQ(c.network.v4->gateway.str(), "198.18.5.1");
  EXPECT_FALSE(c.network.nat);
  ASSERT_EQ(c.ports.size(), 1u);
  EXPECT_EQ(c.ports[0], (net::PortForward{"udp", 8080, 80}));
  EXPECT_EQ(c.rate_in, 1000000u);
  EXPECT_EQ(c.rate_out, 2000000u);
  EXPECT_EQ(c.mac->str(), "02:00:00:00:00:01");
  ASSERT_EQ(c.ips.size(), 1u);
  EXPECT_EQ(c.ips[0].str(), "198.18.5.9");
  EXPECT_EQ(c.state_dir, "/run/berth/cni");
}

TEST(CniConfig, ErrorsCarryCodesAndFields) {
  EXPECT_EQ(parse_err("{").code, kDecodeFailure);
  EXPECT_EQ(parse_err(R"({"cniVersion":"0.2.0","name":"n"})").code, kIncompatibleVersion);
  ConfigError e = parse_err(R"({"cniVersion":"1.0.0","name":"n","subnet4":"198.18.1.0/33"})");
  EXPECT_EQ(e.code, kInvalidConfig);
  EXPECT_TRUE(e.msg.starts_with("subnet4: ")) << e.msg;
  e = parse_err(R"({"cniVersion":"1.0.0","name":"n","subnet4":"198.18.1.0/24","runtimeConfig":{"portMappings":[{"hostPort":1,"containerPort":70000}]}})");
  EXPECT_EQ(e.msg, "runtimeConfig.portMappings[0].containerPort: expected 1..65535");
  e = parse_err(R"({"cniVersion":"1.0.0","name":"n","mode":"routed","bridge":"b","subnet4":"198.18.1.0/24"})");
  EXPECT_EQ(e.msg, "network n: bridge: a routed network has no bridge");
}

TEST(CniConfig, ResultShapes) {
  Config c = parse_ok(R"({"cniVersion":"0.4.0","name":"r","mode":"routed","subnet4":"198.18.7.0/24","subnet6":"fd00:b:7::/64"})");
  net::Attachment a;
  a.container = "x";
  a.ifname = "eth0";
  a.host_if = "bv0123456789ab";
  a.mac = "02:00:00:00:00:02";
  a.ipv4 = *net::parse_ip("198.18.7.2");
  a.ipv6 = *net::parse_ip("fd00:b:7::2");
  std::string r = json::dump(make_result(c, c.network, a, "/run/netns/x"));
  EXPECT_EQ(r,
            R"({"cniVersion":"0.4.0","interfaces":[{"name":"bv0123456789ab"},{"name":"eth0","mac":"02:00:00:00:00:02","sandbox":"/run/netns/x"}],)"
            R"("ips":[{"version":"4","address":"198.18.7.2/32","interface":1},{"version":"6","address":"fd00:b:7::2/128","gateway":"fe80::1","interface":1}],)"
            R"("routes":[{"dst":"0.0.0.0/0"},{"dst":"::/0","gw":"fe80::1"}],"dns":{}})");
  EXPECT_EQ(error_json("1.0.0", 7, "bad"), "{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"bad\"}\n");
}

}  // namespace
}  // namespace berth::cni
