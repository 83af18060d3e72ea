// criu_swrk_test.cpp — the exchange with `criu swrk` against a stand-in
// criu (a Python script speaking the same SOCK_SEQPACKET protocol with
// canned answers): the request as sent, notifications answered (with the
// fd that comes with one), criu's failure with its message and errno,
// criu dying without an answer, descriptors passed and others not.
#include "criu_swrk.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "berth/base/fs.h"

namespace berth::runtime::criu {
namespace {

// The stand-in: records what it got in $DIR/req and $DIR/answer, then
// answers as $MODE says. Answers are protobuf bytes written out by hand.
const char* kFakeCriu = R"PY(#!/usr/bin/env python3
import os, socket, sys
d = os.environ["FAKE_DIR"]
mode = open(d + "/mode").read().strip()
assert sys.argv[1] == "swrk"
s = socket.socket(fileno=int(sys.argv[2]))
open(d + "/req", "wb").write(s.recv(65536))
passed = os.path.exists("/proc/self/fd/" + open(d + "/passfd").read().strip())
open(d + "/pass", "w").write("open" if passed else "closed")
if mode == "ok":
    s.send(bytes([0x08, 0x01, 0x10, 0x01]))
elif mode == "notify":
    r, w = os.pipe()
    os.write(w, b"through")
    script = b"orphan-pts-master"
    notify = bytes([0x0a, len(script)]) + script + bytes([0x10, 0x4d])
    socket.send_fds(s, [bytes([0x08, 0x06, 0x10, 0x01, 0x2a, len(notify)]) + notify], [r])
    open(d + "/answer", "wb").write(s.recv(65536))
    s.send(bytes([0x08, 0x02, 0x10, 0x01, 0x22, 0x02, 0x08, 0x4d]))
elif mode == "fail":
    s.send(bytes([0x08, 0x01, 0x10, 0x00, 0x38, 0x10, 0x4a, 0x04]) + b"busy")
elif mode == "die":
    sys.exit(3)
)PY";

class Swrk : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-swrk-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    ASSERT_TRUE(fs::write_file_atomic(dir_ + "/criu", kFakeCriu, 0755));
    ::setenv("FAKE_DIR", dir_.c_str(), 1);
    passfd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(passfd_, 0);
    ASSERT_TRUE(fs::write_file_atomic(dir_ + "/passfd", std::to_string(passfd_)));
    call_.criu = dir_ + "/criu";
    call_.log_path = dir_ + "/dump.log";
    opts_.images_dir_fd = 5;
    opts_.pid = 42;
    call_.request.type = ReqType::dump;
    call_.request.opts = &opts_;
  }
  void TearDown() override {
    ::close(passfd_);
    (void)fs::remove_tree(dir_);
  }
  void mode(const char* m) { ASSERT_TRUE(fs::write_file_atomic(dir_ + "/mode", m)); }
  std::string file(const char* name) {
    auto text = fs::read_file(dir_ + "/" + name);
    return text ? *text : "<none>";
  }

  std::string dir_;
  int passfd_ = -1;
  Opts opts_;
  SwrkCall call_;
};

TEST_F(Swrk, SendsTheRequestAndReturnsTheAnswer) {
  mode("ok");
  bool before = false;
  call_.before_request = [&](pid_t pid) -> berth::Status {
    before = pid > 0;
    return {};
  };
  auto r = swrk(call_);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->type, ReqType::dump);
  EXPECT_TRUE(before);
  EXPECT_EQ(file("req"), encode(call_.request));
  EXPECT_EQ(file("pass"), "closed");  // close-on-exec and not asked for
}

TEST_F(Swrk, PassesTheDescriptorsAskedFor) {
  mode("ok");
  call_.pass_fds = {passfd_};
  ASSERT_TRUE(swrk(call_));
  EXPECT_EQ(file("pass"), "open");
  EXPECT_EQ(::fcntl(passfd_, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);  // ours unchanged
}

TEST_F(Swrk, AnswersANotificationWithItsFd) {
  mode("notify");
  call_.request.type = ReqType::restore;
  std::string got_script, got_bytes;
  int got_pid = 0;
  call_.on_notify = [&](const Response& n, UniqueFd fd) -> berth::Status {
    got_script = n.notify_script;
    got_pid = n.notify_pid.value_or(0);
    char buf[16] = {};
    if (fd) got_bytes.assign(buf, static_cast<size_t>(std::max<ssize_t>(0, ::read(fd.get(), buf, sizeof buf))));
    return {};
  };
  auto r = swrk(call_);
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->restore_pid, 77);
  EXPECT_EQ(got_script, "orphan-pts-master");
  EXPECT_EQ(got_pid, 77);
  EXPECT_EQ(got_bytes, "through");
  Request ok;
  ok.type = ReqType::notify;
  ok.notify_success = true;
  EXPECT_EQ(file("answer"), encode(ok));
}

TEST_F(Swrk, AFailedNotificationIsAnsweredSoAndReturned) {
  mode("notify");
  call_.on_notify = [](const Response&, UniqueFd) -> berth::Status { return Error::msg("no console"); };
  auto r = swrk(call_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("no console"), std::string::npos) << r.error().what();
  EXPECT_NE(r.error().what().find("orphan-pts-master"), std::string::npos) << r.error().what();
  Request no;
  no.type = ReqType::notify;
  no.notify_success = false;
  EXPECT_EQ(file("answer"), encode(no));
}

TEST_F(Swrk, CriusFailureCarriesItsMessageErrnoAndLog) {
  mode("fail");
  auto r = swrk(call_);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), 16);
  EXPECT_NE(r.error().what().find("criu dump failed: busy"), std::string::npos) << r.error().what();
  EXPECT_NE(r.error().what().find(dir_ + "/dump.log"), std::string::npos) << r.error().what();
}

TEST_F(Swrk, CriuDyingWithoutAnAnswerIsAnError) {
  mode("die");
  auto r = swrk(call_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("exited with status 3 without an answer"), std::string::npos) << r.error().what();
}

TEST_F(Swrk, AMissingBinaryIsAnError) {
  call_.criu = dir_ + "/no-such-criu";
  auto r = swrk(call_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("status 127"), std::string::npos) << r.error().what();
}

TEST_F(Swrk, ARefusalBeforeTheRequestStopsCriu) {
  mode("ok");
  call_.before_request = [](pid_t) -> berth::Status { return Error::msg("cgroup refused"); };
  auto r = swrk(call_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("cgroup refused"), std::string::npos);
  EXPECT_EQ(file("req"), "<none>");  // criu never got a request
}

}  // namespace
}  // namespace berth::runtime::criu
