// model_test.cpp — environment files and records: strict parsing that
// names the field, and round trips.
#include <gtest/gtest.h>

#include "berth/cluster/model.h"

using namespace berth::cluster;

namespace {

const char kGood[] = R"({"name":"shop","strategy":"binpack","roles":[
  {"name":"web","template":"debian-12","count":3,"resources":{"cpus":0.5,"memory_mb":512,"disk_gb":5},"network":"front"},
  {"name":"db","template":"debian-12","count":2,"resources":{"cpus":2,"memory_mb":2048},
   "placement":{"anti_affinity":true,"labels":{"region":"eu"}}}]})";

std::string error_of(const std::string& text) {
  auto e = environment_from(text);
  return e ? std::string("ok") : e.error().message();
}

}  // namespace

TEST(Environment, Parses) {
  auto e = environment_from(kGood);
  ASSERT_TRUE(e) << e.error().what();
  EXPECT_EQ(e->name, "shop");
  EXPECT_EQ(e->strategy, Strategy::binpack);
  ASSERT_EQ(e->roles.size(), 2u);
  EXPECT_EQ(e->roles[0].resources.cpu_milli, 500);
  EXPECT_EQ(e->roles[0].network, "front");
  EXPECT_TRUE(e->roles[1].placement.anti_affinity);
  EXPECT_EQ(e->roles[1].placement.labels.at("region"), "eu");
  auto again = environment_from(berth::json::dump(to_json(*e)));
  ASSERT_TRUE(again) << again.error().what();
  EXPECT_EQ(berth::json::dump(to_json(*again)), berth::json::dump(to_json(*e)));
}

TEST(Environment, RefusesNamingTheField) {
  struct Case {
    const char* text;
    const char* error;
  } cases[] = {
      {R"({"name":"a","roles":[],"x":1})", "roles: expected a non-empty array"},
      {R"({"name":"a","colour":"red","roles":[{"name":"w","template":"t","count":1,"resources":{"cpus":1,"memory_mb":1}}]})",
       "colour: unknown key"},
      {R"({"name":"a","roles":[{"name":"w","template":"t","count":1,"resources":{"cpus":1,"memory_mb":1},"replicas":2}]})",
       "roles[0].replicas: unknown key"},
      {R"({"name":"a","roles":[{"name":"w","template":"t","count":1,"resources":{"cpus":-1,"memory_mb":1}}]})",
       "roles[0].resources.cpus: must be more than 0 and at most 4096"},
      {R"({"name":"a","roles":[{"name":"w","template":"t","count":1,"resources":{"cpus":1,"memory_mb":0}}]})",
       "roles[0].resources.memory_mb: 0 is out of range [1, 67108864]"},
      {R"({"name":"a","roles":[{"name":"w","template":"t","count":-2,"resources":{"cpus":1,"memory_mb":1}}]})",
       "roles[0].count: -2 is out of range [0, 100000]"},
      {R"({"name":"A b","roles":[{"name":"w","template":"t","count":1,"resources":{"cpus":1,"memory_mb":1}}]})",
       "name: \"A b\" is not a valid name ([a-z0-9][a-z0-9_-]*)"},
      {R"({"name":"a","roles":[{"name":"w","template":"t","count":1,"resources":{"cpus":1,"memory_mb":1}},)"
       R"({"name":"w","template":"t","count":1,"resources":{"cpus":1,"memory_mb":1}}]})",
       "roles[1].name: duplicate role \"w\""},
      {R"({"name":"a","strategy":"random","roles":[]})", "strategy: expected spread or binpack, got \"random\""},
      {R"({"name":"a","roles":[{"name":"w","template":"t","count":1,"resources":{"cpus":1,"memory_mb":1},)"
       R"("placement":{"anti_affinity":"yes"}}]})",
       "roles[0].placement.anti_affinity: expected true or false"},
      {R"([1,2])", "expected an object, got array"},
  };
  for (const auto& c : cases) EXPECT_EQ(error_of(c.text), c.error) << c.text;
  EXPECT_NE(error_of("{").find("environment: "), std::string::npos);
}

TEST(Records, NodeSpecAndContainerRoundTrip) {
  NodeSpec n{"n1", {{"region", "eu"}}, {4000, 8192, 100}, {"debian-12"}, "10.0.0.1:8443", {"lan", "dmz"}};
  auto back = node_spec_from(berth::json::dump(to_json(n)));
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(back->capacity, n.capacity);
  EXPECT_EQ(back->labels, n.labels);
  EXPECT_EQ(back->templates, n.templates);
  EXPECT_EQ(back->networks, n.networks);
  EXPECT_EQ(back->address, n.address);
  auto bad = node_spec_from(R"({"id":"n1","capacity":{"cpus":1,"memory_mb":1},"networks":"lan"})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().what(), "node spec: networks: expected an array of strings");
  ContainerRec c{"shop.web.0", "shop", "web", "debian-12", "front", {250, 64, 1}, "n1"};
  auto cb = container_from(berth::json::dump(to_json(c)));
  ASSERT_TRUE(cb) << cb.error().what();
  EXPECT_EQ(cb->resources, c.resources);
  EXPECT_EQ(cb->node, "n1");
  EXPECT_EQ(berth::json::dump(to_json(c)).find("from"), std::string::npos);
  // A cold migration in progress names its source and the source's API.
  c.from = "n2";
  c.from_address = "10.0.0.2:8443";
  auto mb = container_from(berth::json::dump(to_json(c)));
  ASSERT_TRUE(mb) << mb.error().what();
  EXPECT_EQ(mb->from, "n2");
  EXPECT_EQ(mb->from_address, "10.0.0.2:8443");
  c.from = "n1";
  auto self = container_from(berth::json::dump(to_json(c)));
  ASSERT_FALSE(self);
  EXPECT_EQ(self.error().what(), "container shop.web.0: from: the node it is on");
  EXPECT_FALSE(node_spec_from(R"({"id":"n1","capacity":"lots"})"));
  EXPECT_FALSE(node_spec_from("garbage"));
}

TEST(Records, NodeStatusRoundTripAndRefusals) {
  NodeStatus s{{"shop.web.0", {"running", "", "2026-12-07T10:00:00Z"}},
               {"shop.web.1", {"failed", "memory_mb: 2 is below berthd's minimum of 4 MiB", "2026-12-07T10:00:01Z"}}};
  auto back = node_status_from(berth::json::dump(to_json(s)));
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(*back, s);
  EXPECT_TRUE(node_status_from("{}").value().empty());
  auto bad = node_status_from(R"({"containers":{"a":{"error":"x"}}})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().what(), "node status: containers.a.state: required");
  EXPECT_FALSE(node_status_from(R"({"containers":[]})"));
  EXPECT_FALSE(node_status_from(R"({"containers":{"a":{"state":1}}})"));
}

TEST(Keys, Layout) {
  Keys k("/berth");
  EXPECT_EQ(k.node_alive("n1"), "/berth/nodes/n1/alive");
  EXPECT_EQ(k.assign("n1", "shop.web.0"), "/berth/assign/n1/shop.web.0");
  EXPECT_EQ(k.container("shop.web.0"), "/berth/containers/shop.web.0");
  EXPECT_EQ(k.env("shop"), "/berth/envs/shop");
  EXPECT_EQ(k.move("shop.web.0"), "/berth/moves/shop.web.0");
  EXPECT_EQ(k.node_status("n1"), "/berth/nodes/n1/status");
  EXPECT_TRUE(valid_name("sim-0001"));
  EXPECT_FALSE(valid_name("-x"));
  EXPECT_FALSE(valid_name("a.b"));
}
