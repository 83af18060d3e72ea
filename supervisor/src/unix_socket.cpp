// unix_socket.cpp — unix stream socket helpers.
#include "berth/supervisor/unix_socket.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/fdpass.h"

namespace berth::supervisor {

namespace {

Result<sockaddr_un> address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof(a.sun_path)) return Error(ENAMETOOLONG, "socket path " + path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

}  // namespace

Result<UniqueFd> listen_unix(const std::string& path, mode_t mode) {
  sockaddr_un a = BERTH_TRY(address(path));
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::os("socket for " + path);
  ::unlink(path.c_str());
  if (::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return Error::os("bind " + path);
  if (::chmod(path.c_str(), mode) < 0) return Error::os("chmod " + path);
  if (::listen(s.get(), 64) < 0) return Error::os("listen " + path);
  return s;
}

Result<UniqueFd> connect_unix(const std::string& path) {
  sockaddr_un a = BERTH_TRY(address(path));
  UniqueFd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::os("socket for " + path);
  if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) return Error::os("connect " + path);
  return s;
}

Result<UniqueFd> recv_fd(int sock, int flags) {
  char buf[256];
  UniqueFd fd;
  BERTH_TRY(recv_with_fd(sock, buf, &fd, flags));
  if (!fd) return Error::msg("recvmsg: no file descriptor in the message");
  return fd;
}

Status write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::os("write");
    data.remove_prefix(static_cast<size_t>(n));
  }
  return ok();
}

Result<std::string> read_line(int fd, size_t limit) {
  std::string line;
  char c;
  for (;;) {
    ssize_t n = ::read(fd, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::os("read");
    if (n == 0) {
      if (line.empty()) return Error::msg("eof");
      return line;
    }
    if (c == '\n') return line;
    if (line.size() >= limit) return Error(EMSGSIZE, "line longer than " + std::to_string(limit));
    line.push_back(c);
  }
}

}  // namespace berth::supervisor
