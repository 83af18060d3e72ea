// fdpass_test.cpp — send_with_fd/recv_with_fd over a socketpair.
#include "berth/base/fdpass.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cstring>
#include <string>
#include <vector>

#include "pipe.h"

namespace berth {
namespace {

using testing::Pipe;

class FdPassTest : public ::testing::Test {
protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    a_.reset(sv[0]);
    b_.reset(sv[1]);
  }
  // Sends "x" with `fds` in one SCM_RIGHTS message.
  void send_fds(const std::vector<int>& fds) {
    char data = 'x';
    iovec iov{&data, 1};
    std::vector<char> cbuf(CMSG_SPACE(fds.size() * sizeof(int)));
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf.data();
    msg.msg_controllen = cbuf.size();
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(fds.size() * sizeof(int));
    std::memcpy(CMSG_DATA(c), fds.data(), fds.size() * sizeof(int));
    ASSERT_EQ(::sendmsg(a_.get(), &msg, 0), 1);
  }
  // True when every write end of `p` is closed: its read end sees EOF.
  static bool all_writers_closed(Pipe& p) {
    p.wr.reset();
    char c;
    return ::read(p.rd.get(), &c, 1) == 0;
  }
  UniqueFd a_, b_;
};

TEST_F(FdPassTest, DataAndFdArriveAndTheFdIsCloseOnExec) {
  Pipe p;
  auto sent = send_with_fd(a_.get(), "pty", p.wr.get());
  ASSERT_TRUE(sent) << sent.error().what();
  EXPECT_EQ(*sent, 3u);
  char buf[16];
  UniqueFd got;
  auto n = recv_with_fd(b_.get(), buf, &got);
  ASSERT_TRUE(n) << n.error().what();
  EXPECT_EQ(std::string(buf, *n), "pty");
  ASSERT_TRUE(got);
  EXPECT_NE(got.get(), p.wr.get());
  EXPECT_TRUE(::fcntl(got.get(), F_GETFD) & FD_CLOEXEC);
  // It is the pipe's write end: what goes in comes out of the read end.
  ASSERT_EQ(::write(got.get(), "y", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(p.rd.get(), &c, 1), 1);
  EXPECT_EQ(c, 'y');
}

TEST_F(FdPassTest, DataWithoutFdLeavesTheOutputAlone) {
  ASSERT_TRUE(send_with_fd(a_.get(), "ack", -1));
  Pipe p;
  UniqueFd got(::dup(p.wr.get()));
  int before = got.get();
  char buf[16];
  auto n = recv_with_fd(b_.get(), buf, &got);
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf, *n), "ack");
  EXPECT_EQ(got.get(), before);
}

TEST_F(FdPassTest, EndOfStreamIsZeroBytes) {
  a_.reset();
  char buf[4];
  UniqueFd got;
  auto n = recv_with_fd(b_.get(), buf, &got);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_FALSE(got);
}

TEST_F(FdPassTest, OfTwoFdsTheFirstIsKeptAndTheOtherClosed) {
  Pipe first, second;
  send_fds({first.wr.get(), second.wr.get()});
  char buf[4];
  UniqueFd got;
  auto n = recv_with_fd(b_.get(), buf, &got);
  ASSERT_TRUE(n) << n.error().what();
  ASSERT_TRUE(got);
  ASSERT_EQ(::write(got.get(), "1", 1), 1);
  char c = 0;
  ASSERT_EQ(::read(first.rd.get(), &c, 1), 1);
  EXPECT_EQ(c, '1');
  EXPECT_TRUE(all_writers_closed(second));
}

TEST_F(FdPassTest, TruncatedControlIsAnErrorAndClosesWhatArrived) {
  Pipe p;
  send_fds(std::vector<int>(64, p.wr.get()));
  char buf[4];
  UniqueFd got;
  auto n = recv_with_fd(b_.get(), buf, &got);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code(), EMSGSIZE);
  EXPECT_FALSE(got);
  EXPECT_TRUE(all_writers_closed(p));
}

TEST_F(FdPassTest, FlagsReachRecvmsg) {
  char buf[4];
  UniqueFd got;
  auto n = recv_with_fd(b_.get(), buf, &got, MSG_DONTWAIT);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code(), EAGAIN);
  EXPECT_EQ(n.error().message(), "recvmsg");
}

TEST_F(FdPassTest, SendErrorIsSendmsgsErrno) {
  b_.reset();
  auto sent = send_with_fd(a_.get(), "x", -1);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code(), EPIPE);
}

}  // namespace
}  // namespace berth
