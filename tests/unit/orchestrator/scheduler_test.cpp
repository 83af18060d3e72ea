// scheduler_test.cpp — filter and score, table-tested.
#include <gtest/gtest.h>

#include <set>

#include "berth/orchestrator/scheduler.h"

using namespace berth::orch;

namespace {

NodeView node(const std::string& id, int cpus, int mem, std::map<std::string, std::string> labels = {{"region", "eu"}}) {
  NodeView v;
  v.spec = NodeSpec{id, std::move(labels), {cpus * 1000L, mem, 100}, {"debian-12"}, {}, {"lan"}};
  return v;
}

Request req(const std::string& id, int cpus, int mem, bool anti = false) {
  Request r;
  r.container = id;
  r.group = "env.role";
  r.tmpl = "debian-12";
  r.resources = {cpus * 1000L, mem, 1};
  r.placement.anti_affinity = anti;
  return r;
}

}  // namespace

TEST(Filter, Table) {
  NodeView full = node("a", 4, 4096);
  full.used = {4000, 1024, 0};
  NodeView cordoned = node("b", 4, 4096);
  cordoned.schedulable = false;
  cordoned.state = "cordoned";
  NodeView us = node("c", 4, 4096, {{"region", "us"}});
  NodeView has_replica = node("d", 4, 4096);
  has_replica.groups["env.role"] = 1;
  NodeView no_tmpl = node("e", 4, 4096);
  no_tmpl.spec.templates = {"alpine"};
  NodeView no_net = node("g", 4, 4096);
  no_net.spec.networks = {"dmz"};
  NodeView fine = node("f", 4, 4096);
  Request r = req("x", 1, 512, true);
  r.placement.labels = {{"region", "eu"}};
  r.network = "lan";
  struct Case {
    const NodeView* n;
    const char* want;
  } cases[] = {{&full, "not enough cpu"},   {&cordoned, "node cordoned"}, {&us, "label region is not eu"},
               {&has_replica, "anti-affinity"}, {&no_tmpl, "no template debian-12"},
               {&no_net, "no network lan"}, {&fine, nullptr}};
  for (const auto& c : cases) {
    auto why = infeasible(*c.n, r);
    if (!c.want) EXPECT_FALSE(why) << c.n->spec.id << ": " << *why;
    else {
      ASSERT_TRUE(why) << c.n->spec.id;
      EXPECT_EQ(*why, c.want);
    }
  }
  // pick() filters the same way: only the node with the network.
  std::vector<NodeView> two{no_net, fine};
  EXPECT_EQ(pick(two, r, Strategy::spread).node, "f");
  two.pop_back();
  EXPECT_EQ(pick(two, r, Strategy::spread).node, "");
}

TEST(Score, SpreadPicksLeastAllocatedBinpackMost) {
  std::vector<NodeView> nodes{node("a", 8, 8192), node("b", 8, 8192)};
  nodes[0].used = {4000, 4096, 0};
  nodes[0].containers = 1;
  EXPECT_EQ(pick(nodes, req("x", 1, 512), Strategy::spread).node, "b");
  EXPECT_EQ(pick(nodes, req("x", 1, 512), Strategy::binpack).node, "a");
}

TEST(Score, TiesBreakOnFewerContainersThenId) {
  std::vector<NodeView> nodes{node("b", 8, 8192), node("a", 8, 8192)};
  EXPECT_EQ(pick(nodes, req("x", 1, 512), Strategy::spread).node, "a");
}

TEST(PlaceAll, SpreadsAndHonoursAntiAffinity) {
  std::vector<NodeView> nodes{node("a", 8, 8192), node("b", 8, 8192), node("c", 8, 8192)};
  std::vector<Request> reqs;
  for (int i = 0; i < 3; ++i) reqs.push_back(req("db." + std::to_string(i), 1, 512, true));
  auto d = place_all(nodes, reqs, Strategy::binpack);
  std::set<std::string> used;
  for (const auto& x : d) used.insert(x.node);
  EXPECT_EQ(used.size(), 3u);  // binpack would stack them, anti-affinity forbids it
  reqs.push_back(req("db.3", 1, 512, true));
  auto more = place_all(nodes, {reqs.back()}, Strategy::binpack);
  EXPECT_TRUE(more[0].node.empty());
  EXPECT_NE(more[0].reason.find("3 anti-affinity"), std::string::npos) << more[0].reason;
}

TEST(PlaceAll, NeverOverbooks) {
  std::vector<NodeView> nodes{node("a", 4, 4096), node("b", 2, 4096)};
  std::vector<Request> reqs;
  for (int i = 0; i < 10; ++i) reqs.push_back(req("w." + std::to_string(i), 1, 100));
  auto d = place_all(nodes, reqs, Strategy::spread);
  int placed = 0;
  for (const auto& x : d) placed += !x.node.empty();
  EXPECT_EQ(placed, 6);
  for (const auto& n : nodes) EXPECT_TRUE(n.spec.capacity.covers(n.used)) << n.spec.id;
  EXPECT_NE(d.back().reason.find("not enough cpu"), std::string::npos) << d.back().reason;
}

TEST(PlaceAll, KeepsPreferredNodeWhenFeasible) {
  std::vector<NodeView> nodes{node("a", 8, 8192), node("b", 8, 8192)};
  nodes[1].used = {6000, 0, 0};
  Request r = req("x", 1, 512);
  r.prefer = "b";
  EXPECT_EQ(pick(nodes, r, Strategy::spread).node, "b");
  r.resources.cpu_milli = 3000;  // no longer fits on b
  EXPECT_EQ(pick(nodes, r, Strategy::spread).node, "a");
}

TEST(PlaceAll, EmptyCluster) {
  std::vector<NodeView> none;
  EXPECT_EQ(pick(none, req("x", 1, 1), Strategy::spread).reason, "no nodes in the cluster");
}

TEST(Pick, RequiredNodeOnly) {
  std::vector<NodeView> nodes{node("a", 8, 8192), node("b", 2, 2048), node("c", 8, 8192)};
  Request r = req("x", 1, 512);
  r.require = "b";
  EXPECT_EQ(pick(nodes, r, Strategy::spread).node, "b");
  r.resources = {4000, 512, 1};  // fits a and c, not b
  Decision d = pick(nodes, r, Strategy::spread);
  EXPECT_TRUE(d.node.empty());
  EXPECT_NE(d.reason.find("no node fits x"), std::string::npos) << d.reason;
  r.require = "zz";
  d = pick(nodes, r, Strategy::spread);
  EXPECT_EQ(d.reason, "cannot move x to zz: no such node");
}
