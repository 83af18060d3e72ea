// http_test.cpp — the client's HTTP/1.1 (Beast) against a responder thread
// on a real unix socket: whole answers, a streamed body, an upgrade with
// session bytes in the same packet as the 101, refusals and failures.
#include "berth/client/http.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <thread>

#include "berth/client/api.h"

using namespace berth;
using namespace berth::client;

namespace {

bool send_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n <= 0) return false;
    s.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads a request: its head and, by its Content-Length, its body.
std::string read_request(int fd) {
  std::string in;
  char buf[4096];
  size_t end;
  while ((end = in.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) return in;
    in.append(buf, static_cast<size_t>(n));
  }
  size_t len = 0;
  if (size_t at = in.find("Content-Length: "); at != std::string::npos)
    len = std::strtoul(in.c_str() + at + 16, nullptr, 10);
  while (in.size() < end + 4 + len) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

// A unix socket in a temporary directory whose one connection `serve`
// answers on a thread of its own.
class Responder {
public:
  explicit Responder(std::function<void(int fd, const std::string& request)> serve) : serve_(std::move(serve)) {
    char tmpl[] = "/tmp/berth-client-test.XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/api.sock";
    listen_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strncpy(a.sun_path, path_.c_str(), sizeof a.sun_path - 1);
    EXPECT_EQ(::bind(listen_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(listen_.get(), 4), 0);
    thread_ = std::thread([this] {
      UniqueFd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return;
      request_ = read_request(c.get());
      serve_(c.get(), request_);
    });
  }
  ~Responder() {
    ::shutdown(listen_.get(), SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  Endpoint endpoint() const {
    Endpoint e;
    e.socket = path_;
    return e;
  }
  // What the client sent (once the server thread has it).
  std::string request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

private:
  std::function<void(int fd, const std::string& request)> serve_;
  std::string dir_, path_, request_;
  UniqueFd listen_;
  std::thread thread_;
};

std::string answer(int status, const std::string& reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason +
         "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

}  // namespace

TEST(Http, RequestWithBodyGetsTheWholeAnswer) {
  Responder r([](int fd, const std::string&) { send_all(fd, answer(201, "Created", R"({"id":"7"})")); });
  auto resp = call(r.endpoint(), "POST", "/v1/containers", R"({"name":"a"})");
  ASSERT_TRUE(resp) << resp.error().what();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->body, R"({"id":"7"})");
  std::string req = r.request();
  EXPECT_EQ(req.rfind("POST /v1/containers HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Connection: close\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("Content-Type: application/json\r\n"), std::string::npos) << req;
  EXPECT_TRUE(req.ends_with("\r\n\r\n{\"name\":\"a\"}")) << req;
}

TEST(Http, LargeAnswerInManyReads) {
  std::string big(600 * 1024, 'x');
  Responder r([&](int fd, const std::string&) {
    std::string a = answer(200, "OK", big);
    for (size_t at = 0; at < a.size(); at += 7001) send_all(fd, std::string_view(a).substr(at, 7001));
  });
  auto resp = call(r.endpoint(), "GET", "/v1/containers");
  ASSERT_TRUE(resp) << resp.error().what();
  EXPECT_EQ(resp->body.size(), big.size());
}

TEST(Http, StreamHandsOverEachPieceAsItComes) {
  std::promise<void> first_seen;
  auto seen = first_seen.get_future();
  Responder r([&](int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n{\"n\":1}\n");
    // The second event only once the client has shown the first: a body
    // read to its end before being handed over would never get here.
    seen.wait_for(std::chrono::seconds(10));
    send_all(fd, "{\"n\":2}\n");
  });
  auto c = Connection::open(r.endpoint());
  ASSERT_TRUE(c) << c.error().what();
  std::string got;
  bool signalled = false;
  auto resp = c->stream("/v1/events", [&](std::string_view piece) {
    got += piece;
    if (!signalled && got.find('\n') != std::string::npos) {
      signalled = true;
      first_seen.set_value();
    }
    return true;
  });
  ASSERT_TRUE(resp) << resp.error().what();
  EXPECT_EQ(resp->status, 200);
  EXPECT_EQ(got, "{\"n\":1}\n{\"n\":2}\n");
  EXPECT_EQ(r.request().rfind("GET /v1/events HTTP/1.1\r\n", 0), 0u);
}

TEST(Http, StreamRefusedReturnsTheAnswer) {
  Responder r([](int fd, const std::string&) { send_all(fd, answer(403, "Forbidden", R"({"error":"not yours"})")); });
  auto c = Connection::open(r.endpoint());
  ASSERT_TRUE(c);
  bool called = false;
  auto resp = c->stream("/v1/events", [&](std::string_view) { return called = true; });
  ASSERT_TRUE(resp);
  EXPECT_EQ(resp->status, 403);
  EXPECT_FALSE(called);
  EXPECT_EQ(answer_error(*resp).message(), "not yours");
}

TEST(Http, UpgradeKeepsTheSessionBytesThatCameWithThe101) {
  Responder r([](int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: berth-exec\r\n\r\nhello");
    char buf[64];
    ssize_t n = ::read(fd, buf, sizeof buf);  // echo one message
    if (n > 0) send_all(fd, std::string_view(buf, static_cast<size_t>(n)));
  });
  auto c = Connection::open(r.endpoint());
  ASSERT_TRUE(c);
  auto up = c->upgrade("POST", "/v1/containers/a/exec", "berth-exec", R"({"args":["sh"]})");
  ASSERT_TRUE(up) << up.error().what();
  EXPECT_EQ(up->answer.status, 101);
  EXPECT_EQ(up->early, "hello");
  ASSERT_TRUE(up->fd);
  ASSERT_TRUE(send_all(up->fd.get(), "ping"));
  char buf[16];
  ssize_t n = ::read(up->fd.get(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, static_cast<size_t>(std::max<ssize_t>(n, 0))), "ping");
  std::string req = r.request();
  EXPECT_NE(req.find("Connection: Upgrade\r\n"), std::string::npos) << req;
  EXPECT_NE(req.find("Upgrade: berth-exec\r\n"), std::string::npos) << req;
}

TEST(Http, UpgradeRefusedCarriesBerthdsError) {
  Responder r(
      [](int fd, const std::string&) { send_all(fd, answer(409, "Conflict", R"({"error":"a is not running"})")); });
  auto c = Connection::open(r.endpoint());
  ASSERT_TRUE(c);
  auto up = c->upgrade("GET", "/v1/containers/a/console", "berth-console");
  ASSERT_TRUE(up) << up.error().what();
  EXPECT_EQ(up->answer.status, 409);
  EXPECT_FALSE(up->fd);
  Error e = answer_error(up->answer);
  EXPECT_EQ(e.message(), "a is not running");
  EXPECT_EQ(exit_status(e), kConflict);
}

TEST(Http, MalformedAnswerIsAProtocolError) {
  Responder r([](int fd, const std::string&) { send_all(fd, "nonsense\r\n\r\n"); });
  auto resp = call(r.endpoint(), "GET", "/v1/containers");
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), EPROTO);
  EXPECT_NE(resp.error().message().find("malformed answer from berthd"), std::string::npos) << resp.error().message();
}

TEST(Http, AnswerCutShortIsAProtocolError) {
  Responder r([](int fd, const std::string&) {
    send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{\"a\":");
  });
  auto resp = call(r.endpoint(), "GET", "/v1/containers");
  ASSERT_FALSE(resp);
  EXPECT_EQ(resp.error().code(), EPROTO);
}

TEST(Http, NoBerthdIsUnreachable) {
  Endpoint e;
  e.socket = "/nonexistent/berthd.sock";
  auto resp = call(e, "GET", "/v1/containers");
  ASSERT_FALSE(resp);
  EXPECT_EQ(exit_status(resp.error()), kUnreachable);
  EXPECT_EQ(error_text(resp.error()),
            "cannot reach berthd: connect /nonexistent/berthd.sock: No such file or directory");
}

TEST(Http, RemoteNeedsItsTlsFiles) {
  Endpoint e;
  e.remote = "127.0.0.1:1";
  auto resp = call(e, "GET", "/v1/containers");
  ASSERT_FALSE(resp);
  EXPECT_EQ(exit_status(resp.error()), kUsage) << resp.error().what();
  e.remote = "::1:8443";
  resp = call(e, "GET", "/v1/containers");
  ASSERT_FALSE(resp);
  EXPECT_EQ(exit_status(resp.error()), kUsage);
  EXPECT_NE(resp.error().message().find("brackets"), std::string::npos) << resp.error().message();
}

TEST(Api, OperationOutcome) {
  auto done = json::parse(R"({"status":"success","result":{"state":"running"}})");
  auto r = operation_outcome(*done);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->find("state")->as_string(), "running");
  auto failed = json::parse(R"({"status":"failure","error":"no container b","code":404})");
  auto f = operation_outcome(*failed);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message(), "no container b");
  EXPECT_EQ(exit_status(f.error()), kNotFound);
}

TEST(Api, ExpectOk) {
  EXPECT_TRUE(expect_ok(Response{200, "[]"}));
  auto bad = expect_ok(Response{400, R"({"error":"--ram: expected a size"})"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(exit_status(bad.error()), kUsage);
  auto plain = expect_ok(Response{500, "oops"});
  ASSERT_FALSE(plain);
  EXPECT_EQ(plain.error().message(), "oops");
  EXPECT_EQ(exit_status(plain.error()), kFailed);
  auto broken = expect_ok(Response{200, "{"});
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().code(), EPROTO);
}
