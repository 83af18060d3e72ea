// state_test.cpp — the cluster cache decoding keys as a watch delivers
// them: node conditions, containers, the nodes' reports of their
// containers, and stale changes arriving after newer ones.
#include <gtest/gtest.h>

#include "berth/base/json.h"
#include "berth/cluster/state.h"

using namespace berth;
using namespace berth::cluster;

namespace {

KeyValue kv(std::string key, std::string value, int64_t rev) {
  KeyValue k;
  k.key = std::move(key);
  k.value = std::move(value);
  k.mod_revision = rev;
  return k;
}

const Keys keys("/berth/");

std::string spec_of(const std::string& id) {
  NodeSpec n;
  n.id = id;
  n.capacity = {4000, 4096, 100};
  return json::dump(to_json(n));
}

}  // namespace

TEST(ClusterState, NodeConditions) {
  ClusterState st(keys);
  st.apply(kv(keys.node_spec("n1"), spec_of("n1"), 1), false);
  EXPECT_EQ(st.condition("n1"), "suspect");  // no lease-bound alive key yet
  st.apply(kv(keys.node_alive("n1"), "{}", 2), false);
  EXPECT_EQ(st.condition("n1"), "ready");
  st.apply(kv(keys.node_admin("n1"), "cordoned", 3), false);
  EXPECT_EQ(st.condition("n1"), "cordoned");
  st.apply(kv(keys.node_fence("n1"), "{}", 4), false);
  EXPECT_EQ(st.condition("n1"), "fenced");
  st.apply(kv(keys.node_spec("n2"), spec_of("n3"), 5), false);
  EXPECT_EQ(st.condition("n2"), "invalid");
  EXPECT_EQ(st.condition("n9"), "unknown");
}

TEST(ClusterState, ReportsOfTheNodeAContainerIsOn) {
  ClusterState st(keys);
  ContainerRec c{"shop.web.0", "shop", "web", "debian-12", "", {250, 64, 1}, "n1"};
  st.apply(kv(keys.container(c.id), json::dump(to_json(c)), 1), false);
  EXPECT_EQ(st.reported(st.containers().at(c.id)), nullptr);
  NodeStatus s{{c.id, {"failed", "no such template", "t"}}};
  st.apply(kv(keys.node_status("n1"), json::dump(to_json(s)), 2), false);
  const ContainerStatus* r = st.reported(st.containers().at(c.id));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->state, "failed");
  EXPECT_EQ(r->error, "no such template");
  // A report from another node says nothing of this container.
  NodeStatus other{{c.id, {"running", "", "t"}}};
  st.apply(kv(keys.node_status("n2"), json::dump(to_json(other)), 3), false);
  EXPECT_EQ(st.reported(st.containers().at(c.id))->state, "failed");
  // An older write arriving late is ignored; the node's lease going takes
  // its reports with it.
  st.apply(kv(keys.node_status("n1"), json::dump(to_json(other)), 1), false);
  EXPECT_EQ(st.reported(st.containers().at(c.id))->state, "failed");
  st.apply(kv(keys.node_status("n1"), "", 4), true);
  EXPECT_EQ(st.reported(st.containers().at(c.id)), nullptr);
  // A report that does not parse is dropped, not half-applied.
  st.apply(kv(keys.node_status("n1"), "{\"containers\":7}", 5), false);
  EXPECT_EQ(st.reported(st.containers().at(c.id)), nullptr);
}
