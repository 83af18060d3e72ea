// peer_client_test.cpp — berthd's client of another berthd: answer heads
// parsed, bodies to memory or to a file, and a body cut short refused;
// served by a canned peer on a unix socket of the test's own.
#include "berth/supervisor/peer_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "canned_peer.h"

using namespace berth;
using namespace berth::supervisor;
using berth::supervisor_test::CannedPeer;

TEST(PeerClient, ParsesHead) {
  auto r = parse_response_head("HTTP/1.1 409 Conflict\r\nContent-Length: 12\r\nBerth-Layers: a,b\r\nX-Empty:");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->status, 409);
  EXPECT_EQ(r->headers["content-length"], "12");
  EXPECT_EQ(r->headers["berth-layers"], "a,b");
  EXPECT_EQ(r->headers["x-empty"], "");
}

TEST(PeerClient, RefusesMalformedHeads) {
  for (const char* bad : {"", "HTTP/2 200 OK", "SSH-2.0-x", "HTTP/1.1 2x0 OK", "HTTP/1.1 200 OK\r\nno colon here",
                          "HTTP/1.1 200 OK\r\n: empty name"}) {
    auto r = parse_response_head(bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code(), EPROTO) << bad;
    }
  }
}

TEST(PeerClient, BodyIntoMemoryAndErrorText) {
  CannedPeer p("HTTP/1.1 404 Not Found\r\nContent-Length: 32\r\n\r\n{\"error\":\"no container web-1\"}\n\n");
  auto r = peer_request({}, p.address(), "POST", "/v1/containers/web-1/export", "{\"cluster\":\"x\"}");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(peer_error(*r), "no container web-1");
  std::string req = p.request();
  EXPECT_EQ(req.rfind("POST /v1/containers/web-1/export HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Content-Length: 15\r\n"), std::string::npos) << req;
}

TEST(PeerClient, BodyIntoFile) {
  std::string body(200000, 'z');
  CannedPeer p("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\nBerth-Image: busybox\r\n\r\n" + body);
  FILE* f = ::tmpfile();
  auto r = peer_request({}, p.address(), "POST", "/v1/containers/a/export", "", ::fileno(f));
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->body_size, body.size());
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(r->headers["berth-image"], "busybox");
  EXPECT_EQ(::lseek(::fileno(f), 0, SEEK_END), static_cast<off_t>(body.size()));
  ::fclose(f);
}

TEST(PeerClient, BodyCutShortIsAnError) {
  CannedPeer p("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly this");
  FILE* f = ::tmpfile();
  auto r = peer_request({}, p.address(), "POST", "/v1/containers/a/export", "", ::fileno(f));
  ::fclose(f);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("cut short (9 of 1000 bytes)"), std::string::npos) << r.error().what();
}

TEST(PeerClient, NothingListening) {
  auto r = peer_request({}, "unix:/nonexistent/berthd.sock", "GET", "/v1/containers");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("unix:/nonexistent/berthd.sock"), std::string::npos) << r.error().what();
}

TEST(PeerClient, TcpNeedsTlsFiles) {
  auto r = peer_request({}, "127.0.0.1:1", "GET", "/v1/containers");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("--cert: required"), std::string::npos) << r.error().what();
}
