// fdpass.cpp — send_with_fd/recv_with_fd: sendmsg/recvmsg with SCM_RIGHTS.
// Only sendmsg, recvmsg and close: the container init uses these after its
// seccomp filter is loaded, which may allow nothing else, and allocate
// nothing.
#include "berth/base/fdpass.h"

#include <sys/socket.h>

#include <cstring>
#include <utility>

#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

namespace berth {
namespace {

constexpr size_t kMaxFds = 16;

// The fds carried by one control message: SCM_RIGHTS, any number;
// SCM_PIDFD (a pidfd of SO_PASSPIDFD), one; nothing in other kinds.
template <class F>
void for_each_fd(const cmsghdr* c, F f) {
  if (c->cmsg_level != SOL_SOCKET || (c->cmsg_type != SCM_RIGHTS && c->cmsg_type != SCM_PIDFD)) return;
  size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
  for (size_t i = 0; i < n; ++i) {
    int fd;
    std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
    f(fd, c->cmsg_type == SCM_RIGHTS);
  }
}

}  // namespace

Result<size_t> send_with_fd(int sock, std::string_view data, int fd) {
  iovec iov{const_cast<char*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int))] = {};
  if (fd >= 0) {
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return Error::os("sendmsg");
  return static_cast<size_t>(n);
}

Result<size_t> recv_with_fd(int sock, std::span<char> buf, UniqueFd* fd_out, int flags) {
  iovec iov{buf.data(), buf.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char cbuf[CMSG_SPACE(kMaxFds * sizeof(int))];
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return Error::os("recvmsg");
  // No allocation here: see the banner.
  bool truncated = msg.msg_flags & MSG_CTRUNC;
  UniqueFd first;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
    for_each_fd(c, [&](int fd, bool rights) {
      if (rights && !truncated && !first) first.reset(fd);
      else ::close(fd);
    });
  if (truncated) return Error(EMSGSIZE, "recvmsg: control message truncated");
  if (first) *fd_out = std::move(first);
  return static_cast<size_t>(n);
}

}  // namespace berth
