// orchestrator_test.cpp — the leader's step-down margin: a leader that
// cannot renew stops acting before its lease can expire, whatever the TTL.
#include <gtest/gtest.h>

#include "berth/orchestrator/orchestrator.h"

using namespace berth::orch;

TEST(LeaderStepDown, BeforeTheLeaseCanExpire) {
  // 5 s lives at least 5000 * 0.99 / 1.01 = 4900 ms on a clock 1 % fast;
  // less the check's period twice (200 ms) and a tick in flight (100 ms).
  EXPECT_EQ(leader_step_down_ms(5, 100), 4600);
  EXPECT_EQ(leader_step_down_ms(3, 100), 2640);
  EXPECT_EQ(leader_step_down_ms(2, 100), 1660);
  for (int64_t ttl : {2, 3, 5, 15, 60}) {
    long ms = leader_step_down_ms(ttl, 100);
    EXPECT_GT(ms, 0) << ttl;
    EXPECT_LT(ms, ttl * 1000 * 99 / 101) << ttl;  // before any drift can let it expire
  }
  EXPECT_EQ(leader_step_down_ms(2, 5000), 0);  // never negative
}
