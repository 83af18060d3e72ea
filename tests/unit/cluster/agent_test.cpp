// agent_test.cpp — the node agent's self-fencing without etcd: the fence
// budget's arithmetic, and the watchdog stopping every cluster container
// through the driver once no renewal came for fence.after_ms.
#include <gtest/gtest.h>

#include <thread>

#include "berth/cluster/agent.h"

using namespace berth;
using namespace berth::cluster;

namespace {

// Records the driver calls.
class FakeDriver final : public ContainerDriver {
public:
  std::vector<std::string> have{"web.app.0", "web.app.1"};
  std::vector<std::string> fenced, started, stopped;
  Status start(const ContainerRec& c) override {
    started.push_back(c.id);
    return ok();
  }
  Status stop(const std::string& id) override {
    stopped.push_back(id);
    return ok();
  }
  Status fence(const std::string& id) override {
    fenced.push_back(id);
    return ok();
  }
  std::vector<std::string> list() override { return have; }
};

NodeSpec spec() {
  NodeSpec n;
  n.id = "n1";
  n.capacity = {4000, 4096, 100};
  return n;
}

FenceBudget budget(long ttl_ms, long after_ms, long stop_ms) {
  FenceBudget b;
  b.lease_ttl_ms = ttl_ms;
  b.after_ms = after_ms;
  b.stop_ms = stop_ms;
  return b;
}

}  // namespace

TEST(FenceBudget, DeadlineIsTheWaitTheWatchdogAndTheStops) {
  FenceBudget b = budget(15000, 15000, 11000);
  b.check_ms = 100;
  EXPECT_EQ(b.deadline_ms(), 26100);
}

TEST(FenceBudget, MinGraceCoversDriftBothWays) {
  FenceBudget b = budget(15000, 15000, 11000);
  b.drift = 0.01;
  // 26100 * 1.01 / 0.99 - 15000 = 11627.3 -> 11628
  EXPECT_EQ(b.min_grace_ms(), 11628);
  // The defaults fit the orchestrator's default --grace of 30 s with room.
  EXPECT_LT(FenceBudget{}.min_grace_ms(), 30000);
  // Without drift the margin is exactly deadline - TTL.
  b.drift = 0;
  EXPECT_EQ(b.min_grace_ms(), 11100);
}

TEST(FenceBudget, NoGraceNeededWhenTheFenceEndsWithinTheTtl) { EXPECT_EQ(budget(30000, 5000, 2000).min_grace_ms(), 0); }

TEST(NodeAgent, SelfFenceStopsEveryClusterContainerOnce) {
  FakeDriver d;
  AgentOptions o;
  o.lease_ttl = 2;
  o.fence = budget(2000, 100, 1000);
  NodeAgent a(Keys("/berth/"), spec(), d, o);
  a.check_fence();  // too early: the agent was made just now
  EXPECT_TRUE(d.fenced.empty());
  EXPECT_FALSE(a.self_fenced());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  a.check_fence();
  EXPECT_TRUE(a.self_fenced());
  EXPECT_EQ(d.fenced, d.have);
  EXPECT_TRUE(d.stopped.empty());  // kept, disks and all
  EXPECT_TRUE(d.started.empty());
  a.check_fence();  // once
  EXPECT_EQ(d.fenced.size(), 2u);
}

TEST(NodeAgent, NoSelfFenceWhenOff) {
  FakeDriver d;
  AgentOptions o;  // simulated nodes: no fence
  NodeAgent a(Keys("/berth/"), spec(), d, o);
  a.check_fence();
  EXPECT_FALSE(a.self_fenced());
  EXPECT_TRUE(d.fenced.empty());
}

// A fence stop that fails is tried again at the next check.
TEST(NodeAgent, FailedFenceStopRetried) {
  class Stubborn final : public ContainerDriver {
  public:
    int calls = 0;
    Status start(const ContainerRec&) override { return ok(); }
    Status stop(const std::string&) override { return ok(); }
    Status fence(const std::string& id) override {
      if (++calls == 1) return Error(EBUSY, "fence " + id);
      return ok();
    }
    std::vector<std::string> list() override { return {"web.app.0"}; }
  } d;
  AgentOptions o;
  o.fence = budget(15000, 1, 1000);
  NodeAgent a(Keys("/berth/"), spec(), d, o);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  a.check_fence();
  EXPECT_EQ(d.calls, 1);
  a.check_fence();
  EXPECT_EQ(d.calls, 2);
  a.check_fence();
  EXPECT_EQ(d.calls, 2);
}
