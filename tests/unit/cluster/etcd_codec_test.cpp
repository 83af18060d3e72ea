// etcd_codec_test.cpp — gateway request bodies and answers, byte for byte
// against what etcd 3.4.23 sends and accepts.
#include <gtest/gtest.h>

#include "berth/cluster/etcd.h"

using namespace berth::cluster;
using namespace berth::cluster::codec;

TEST(Base64, RoundTripsAllLengths) {
  std::string s;
  for (int i = 0; i < 300; ++i) {
    auto d = base64_decode(base64_encode(s));
    ASSERT_TRUE(d) << d.error().what();
    EXPECT_EQ(*d, s);
    s += static_cast<char>(i * 37);
  }
  EXPECT_EQ(base64_encode("nodes/n2"), "bm9kZXMvbjI=");
  EXPECT_EQ(base64_encode("nodes/"), "bm9kZXMv");
}

TEST(Base64, RefusesGarbage) {
  EXPECT_FALSE(base64_decode("abc"));
  EXPECT_FALSE(base64_decode("ab!d"));
  EXPECT_FALSE(base64_decode("a=bc"));
  EXPECT_FALSE(base64_decode("ab==cd=="));
  EXPECT_FALSE(base64_decode("a==="));
  EXPECT_FALSE(base64_decode("===="));
  EXPECT_FALSE(base64_decode(" bc="));  // OpenSSL alone would skip the blank
  EXPECT_FALSE(base64_decode("abc\n"));
  EXPECT_EQ(base64_decode("").value(), "");
  EXPECT_EQ(base64_decode("bm9kZXMvbjI=").value(), "nodes/n2");
  EXPECT_EQ(base64_decode("bm9kZXMvbg==").value(), "nodes/n");
}

TEST(PrefixEnd, IncrementsLastByte) {
  EXPECT_EQ(prefix_end("nodes/"), "nodes0");
  EXPECT_EQ(prefix_end(std::string("a\xff", 2)), "b");
  EXPECT_EQ(prefix_end(""), std::string(1, '\0'));
}

TEST(Requests, Bodies) {
  EXPECT_EQ(range_request("nodes/", "nodes0"), R"({"key":"bm9kZXMv","range_end":"bm9kZXMw"})");
  EXPECT_EQ(put_request("alive/n1", "up", 2324035607841798413),
            R"({"key":"YWxpdmUvbjE=","value":"dXA=","lease":"2324035607841798413"})");
  EXPECT_EQ(lease_grant_request(5), R"({"TTL":"5"})");
  EXPECT_EQ(watch_request("alive/", "alive0", 362386),
            R"({"create_request":{"key":"YWxpdmUv","range_end":"YWxpdmUw","start_revision":"362386"}})");
  EXPECT_EQ(
      txn_request({Compare::absent("claims/ctr-42")}, {Op::put("claims/ctr-42", "n1")}, {Op::get("claims/ctr-42")}),
      R"({"compare":[{"target":"CREATE","result":"EQUAL","key":"Y2xhaW1zL2N0ci00Mg==","create_revision":"0"}],)"
      R"("success":[{"request_put":{"key":"Y2xhaW1zL2N0ci00Mg==","value":"bjE="}}],)"
      R"("failure":[{"request_range":{"key":"Y2xhaW1zL2N0ci00Mg=="}}]})");
  EXPECT_EQ(txn_request({Compare::mod_revision("a", 7)}, {Op::del("a", "b")}, {}),
            R"({"compare":[{"target":"MOD","result":"EQUAL","key":"YQ==","mod_revision":"7"}],)"
            R"("success":[{"request_delete_range":{"key":"YQ==","range_end":"Yg=="}}],"failure":[]})");
}

TEST(Answers, Range) {
  auto r = parse_range(
      R"({"header":{"cluster_id":"324952591200643719","member_id":"3319814642761637952","revision":"4","raft_term":"2"},)"
      R"("kvs":[{"key":"bm9kZXMvbjE=","create_revision":"2","mod_revision":"2","version":"1","value":"eyJjcHUiOjE2fQ=="},)"
      R"({"key":"bm9kZXMvbjI=","create_revision":"4","mod_revision":"4","version":"1","value":"eyJjcHUiOjgsIm1lbV9tYiI6MzI3Njh9"}],"count":"2"})");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->revision, 4);
  EXPECT_EQ(r->count, 2);
  ASSERT_EQ(r->kvs.size(), 2u);
  EXPECT_EQ(r->kvs[0].key, "nodes/n1");
  EXPECT_EQ(r->kvs[0].value, R"({"cpu":16})");
  EXPECT_EQ(r->kvs[1].mod_revision, 4);
  // An empty range has neither kvs nor count.
  auto e = parse_range(R"({"header":{"revision":"7","raft_term":"2"}})");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->kvs.empty());
  EXPECT_EQ(e->revision, 7);
}

TEST(Answers, Txn) {
  auto ok = parse_txn(
      R"({"header":{"revision":"8"},"succeeded":true,"responses":[{"response_put":{"header":{"revision":"8"}}}]})");
  ASSERT_TRUE(ok);
  EXPECT_TRUE(ok->succeeded);
  EXPECT_EQ(ok->revision, 8);
  auto no = parse_txn(
      R"({"header":{"revision":"8"},"responses":[{"response_range":{"header":{"revision":"8"},"kvs":[{"key":"Y2xhaW1zL2N0ci00Mg==",)"
      R"("create_revision":"8","mod_revision":"8","version":"1","value":"bjE="}],"count":"1"}}]})");
  ASSERT_TRUE(no);
  EXPECT_FALSE(no->succeeded);
  ASSERT_EQ(no->ranges.size(), 1u);
  EXPECT_EQ(no->ranges[0].kvs[0].value, "n1");
  // A nested empty range answer may have an empty header.
  auto empty =
      parse_txn(R"({"header":{"revision":"9"},"succeeded":true,"responses":[{"response_range":{"header":{}}}]})");
  ASSERT_TRUE(empty) << empty.error().what();
  EXPECT_EQ(empty->ranges.size(), 1u);
}

TEST(Answers, Leases) {
  auto g = parse_lease_grant(R"({"header":{"revision":"4"},"ID":"2324035607841798413","TTL":"5"})");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->id, 2324035607841798413);
  EXPECT_EQ(g->ttl, 5);
  auto k = parse_keepalive(R"({"result":{"header":{"revision":"5"},"ID":"2324035607841798413","TTL":"5"}})");
  ASSERT_TRUE(k);
  EXPECT_EQ(*k, 5);
  auto gone = parse_keepalive(R"({"result":{"header":{"revision":"5"},"ID":"2324035607841798413"}})");
  ASSERT_TRUE(gone);
  EXPECT_EQ(*gone, 0);
}

TEST(Answers, Watch) {
  auto created = parse_watch(R"({"result":{"header":{"revision":"5"},"created":true}})");
  ASSERT_TRUE(created);
  EXPECT_TRUE(created->created);
  auto put = parse_watch(
      R"({"result":{"header":{"revision":"6"},"events":[{"kv":{"key":"YWxpdmUvbjk=","create_revision":"6","mod_revision":"6","version":"1","value":"dXA="}}]}})");
  ASSERT_TRUE(put);
  ASSERT_EQ(put->events.size(), 1u);
  EXPECT_EQ(put->events[0].type, WatchEvent::Type::put);
  EXPECT_EQ(put->events[0].kv.key, "alive/n9");
  auto del = parse_watch(
      R"({"result":{"header":{"revision":"7"},"events":[{"type":"DELETE","kv":{"key":"YWxpdmUvbjE=","mod_revision":"7"}}]}})");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->events[0].type, WatchEvent::Type::del);
  EXPECT_EQ(del->events[0].kv.mod_revision, 7);
  auto comp = parse_watch(R"({"result":{"header":{"revision":"9"},"canceled":true,"compact_revision":"362387"}})");
  ASSERT_TRUE(comp);
  EXPECT_TRUE(comp->canceled);
  EXPECT_EQ(comp->compact_revision, 362387);
  EXPECT_FALSE(parse_watch(R"({"result":{"header":{"revision":"7"},"events":[{"type":"BOGUS","kv":{}}]}})"));
  EXPECT_FALSE(parse_watch("not json"));
}

TEST(Answers, Auth) {
  EXPECT_EQ(authenticate_request("berth", "p\"w"), R"({"name":"berth","password":"p\"w"})");
  auto t = parse_token(R"({"header":{"revision":"3"},"token":"RvdpLzHnRH.22"})");
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, "RvdpLzHnRH.22");
  EXPECT_FALSE(parse_token(R"({"header":{"revision":"3"}})"));
  EXPECT_TRUE(token_refused(R"({"error":"etcdserver: invalid auth token","code":16})"));
  EXPECT_TRUE(token_refused(R"({"error":"etcdserver: user name is empty","code":3})"));
  EXPECT_TRUE(token_refused("rpc error: code = InvalidArgument desc = etcdserver: revision in header is old"));
  EXPECT_FALSE(token_refused(R"({"error":"etcdserver: permission denied","code":7})"));
  auto canceled = parse_watch(
      R"({"result":{"header":{"revision":"9"},"created":true,"canceled":true,"cancel_reason":"rpc error: code = Unauthenticated desc = etcdserver: invalid auth token"}})");
  ASSERT_TRUE(canceled);
  EXPECT_TRUE(canceled->canceled);
  EXPECT_EQ(canceled->compact_revision, 0);
  EXPECT_TRUE(token_refused(canceled->cancel_reason));
}

TEST(Answers, Errors) {
  berth::Error e = error_from(
      404,
      R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease not found","code":5})");
  EXPECT_EQ(e.code(), ENOENT);
  EXPECT_NE(e.message().find("lease not found"), std::string::npos);
  EXPECT_EQ(error_from(503, "<html>").code(), EIO);
  EXPECT_FALSE(parse_range(R"({"header":{"revision":"x"}})"));
  EXPECT_FALSE(parse_range(R"({"header":{"revision":"1"},"kvs":[{"key":"%%%%"}]})"));
}
