// etcd_client_test.cpp — the endpoint selection of the etcd client: the
// member that answered last first, members that failed lately last, one
// selector shared per endpoint list; which calls may go on to another
// member after a timeout.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth/cluster/etcd.h"

using namespace berth::cluster;
using Clock = EndpointSelector::Clock;

TEST(EndpointSelector, StartsAtTheFirstThenInTurn) {
  EndpointSelector s(3);
  EXPECT_EQ(s.order(Clock::now()), (std::vector<size_t>{0, 1, 2}));
}

TEST(EndpointSelector, RemembersTheLastGoodMember) {
  EndpointSelector s(3);
  s.good(2);
  EXPECT_EQ(s.preferred(), 2u);
  EXPECT_EQ(s.order(Clock::now()), (std::vector<size_t>{2, 0, 1}));
}

TEST(EndpointSelector, AFailedMemberGoesLastUntilItsCooloffEnds) {
  EndpointSelector s(3, 5000);
  auto t = Clock::now();
  s.bad(0, t);  // hung: the next call starts at 1, and 0 is tried last
  EXPECT_EQ(s.preferred(), 1u);
  EXPECT_EQ(s.order(t), (std::vector<size_t>{1, 2, 0}));
  s.bad(1, t);
  EXPECT_EQ(s.order(t + std::chrono::milliseconds(10)), (std::vector<size_t>{2, 0, 1}));
  // After the cool-off they are healthy again, in turn from the preferred.
  EXPECT_EQ(s.order(t + std::chrono::milliseconds(6000)), (std::vector<size_t>{2, 0, 1}));
  s.good(0);
  EXPECT_EQ(s.order(t + std::chrono::milliseconds(10)), (std::vector<size_t>{0, 2, 1}));
}

TEST(EndpointSelector, AllFailedStillTriesEveryOne) {
  EndpointSelector s(3, 5000);
  auto t = Clock::now();
  for (size_t i = 0; i < 3; ++i) s.bad(i, t);
  auto o = s.order(t);
  ASSERT_EQ(o.size(), 3u);
  EXPECT_EQ(o.front(), s.preferred());
}

TEST(EndpointSelector, FailureOfAnotherMemberKeepsThePreferred) {
  EndpointSelector s(3);
  s.good(1);
  s.bad(2, Clock::now());
  EXPECT_EQ(s.preferred(), 1u);
  EXPECT_EQ(s.order(Clock::now()), (std::vector<size_t>{1, 0, 2}));
}

TEST(EndpointSelector, OutOfRangeIgnored) {
  EndpointSelector s(2);
  s.good(7);
  s.bad(9, Clock::now());
  EXPECT_EQ(s.order(Clock::now()), (std::vector<size_t>{0, 1}));
}

TEST(EndpointSelector, SharedPerEndpointList) {
  std::vector<std::string> a{"http://198.18.0.1:2379", "http://198.18.0.2:2379"};
  std::vector<std::string> b{"http://198.18.0.3:2379"};
  auto s1 = EndpointSelector::shared_for(a);
  auto s2 = EndpointSelector::shared_for(a);
  auto s3 = EndpointSelector::shared_for(b);
  EXPECT_EQ(s1.get(), s2.get());
  EXPECT_NE(s1.get(), s3.get());
  s1->good(1);
  EXPECT_EQ(s2->preferred(), 1u);  // a new client starts where the last answer came from
}

TEST(RetrySafe, ReadsAndLeasesOnlyGoOnToAnotherMember) {
  EXPECT_TRUE(retry_safe("/v3/kv/range"));
  EXPECT_TRUE(retry_safe("/v3/lease/keepalive"));
  EXPECT_TRUE(retry_safe("/v3/lease/grant"));
  EXPECT_TRUE(retry_safe("/v3/maintenance/status"));
  EXPECT_FALSE(retry_safe("/v3/kv/txn"));
  EXPECT_FALSE(retry_safe("/v3/kv/put"));
  EXPECT_FALSE(retry_safe("/v3/kv/deleterange"));
}

// A member that accepts connections and never answers (a SIGSTOPped etcd:
// the kernel completes the handshake): a read is given up after the
// request deadline and goes on to the next member, which refuses; the
// next client starts at the member after the hung one.
TEST(Etcd, HungMemberIsLeftForTheNext) {
  int hung = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(hung, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(hung, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(hung, 8), 0);
  socklen_t len = sizeof a;
  ASSERT_EQ(::getsockname(hung, reinterpret_cast<sockaddr*>(&a), &len), 0);
  EtcdConfig cfg;
  cfg.endpoints = {"http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)), "http://127.0.0.1:1"};
  cfg.timeout_ms = 300;
  Etcd e(cfg);
  auto t0 = Clock::now();
  auto r = e.get("k");
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), ECONNREFUSED) << r.error().what();  // the last one tried: member 1
  EXPECT_GE(ms, 250);
  EXPECT_LT(ms, 2000);
  // A write that may have reached the hung member is not sent again.
  EndpointSelector::shared_for(cfg.endpoints)->good(0);
  auto w = e.put("k", "v");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.error().code(), ETIMEDOUT) << w.error().what();
  EXPECT_EQ(EndpointSelector::shared_for(cfg.endpoints)->preferred(), 1u);  // the next call starts elsewhere
  // Nor is a transaction that writes; one that only reads is.
  EndpointSelector::shared_for(cfg.endpoints)->good(0);
  auto tw = e.txn({}, {Op::put("k", "v")});
  ASSERT_FALSE(tw.ok());
  EXPECT_EQ(tw.error().code(), ETIMEDOUT) << tw.error().what();
  EndpointSelector::shared_for(cfg.endpoints)->good(0);
  auto tr = e.txn({}, {Op::get("k")});
  ASSERT_FALSE(tr.ok());
  EXPECT_EQ(tr.error().code(), ECONNREFUSED) << tr.error().what();
  ::close(hung);
}
