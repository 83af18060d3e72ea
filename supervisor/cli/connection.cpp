// connection.cpp — the CLI's byte stream to berthd: the unix socket, or TCP
// with mutual TLS (OpenSSL) whose handshake failures say which side
// refused.
#include "connection.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "berth/supervisor/host_port.h"
#include "berth/supervisor/tls_client.h"
#include "berth/supervisor/unix_socket.h"
#include "client.h"

namespace berth::cli {

RemoteOptions g_remote;

namespace {

// The client context of --remote; exits 2 naming the flag at fault.
supervisor::SslCtxPtr client_context() {
  for (auto [flag, value] : {std::pair{"--cert", &g_remote.cert}, {"--key", &g_remote.key}, {"--ca", &g_remote.ca}})
    if (value->empty()) die(2, "--remote needs " + std::string(flag) + " (berthd's TCP port is mutual TLS)");
  auto ctx = supervisor::client_tls_context({g_remote.cert, g_remote.key, g_remote.ca});
  if (!ctx) die(ctx.error().code() == EINVAL ? 2 : 1, ctx.error().message());
  return std::move(*ctx);
}

}  // namespace

Connection Connection::open() {
  Connection c;
  if (g_remote.address.empty()) {
    auto s = supervisor::connect_unix(g_socket);
    if (!s) die(5, "cannot reach berthd: " + s.error().what());
    c.fd_ = std::move(*s);
    return c;
  }
  auto a = supervisor::parse_host_port(g_remote.address);
  if (!a) die(2, "--remote: " + a.error().what());
  c.ctx_ = client_context();
  auto fd = supervisor::connect_tcp(*a);
  if (!fd) die(5, fd.error().what());
  c.fd_ = std::move(*fd);
  auto ssl = supervisor::tls_connect(c.ctx_.get(), c.fd_.get(), *a);
  if (!ssl) die(5, ssl.error().message());
  c.ssl_ = std::move(*ssl);
  return c;
}

void Connection::write_all(std::string_view data) {
  if (!ssl_) {
    if (!supervisor::write_all(fd_.get(), data)) die(5, "write to berthd failed: " + std::string(std::strerror(errno)));
    return;
  }
  while (!data.empty()) {
    errno = 0;
    int n = ::SSL_write(ssl_.get(), data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 20)));
    if (n <= 0) die(5, supervisor::tls_failure(ssl_.get(), g_remote.address));
    data.remove_prefix(static_cast<size_t>(n));
  }
}

size_t Connection::read(char* buf, size_t n) {
  if (!ssl_) {
    for (;;) {
      ssize_t got = ::read(fd_.get(), buf, n);
      if (got < 0 && errno == EINTR) continue;
      return got > 0 ? static_cast<size_t>(got) : 0;
    }
  }
  errno = 0;
  int got = ::SSL_read(ssl_.get(), buf, static_cast<int>(std::min<size_t>(n, 1 << 20)));
  if (got > 0) return static_cast<size_t>(got);
  int err = ::SSL_get_error(ssl_.get(), got);
  if (err == SSL_ERROR_ZERO_RETURN) return 0;
  // berthd closing the TCP connection after its answer without close_notify.
  if (err == SSL_ERROR_SYSCALL && ::ERR_peek_error() == 0) return 0;
  die(5, supervisor::tls_failure(ssl_.get(), g_remote.address));
}

namespace {

// Waits until `fd` is ready for what OpenSSL asked for; false on a hang-up.
bool wait_for(int fd, int ssl_error) {
  pollfd p{fd, static_cast<short>(ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN), 0};
  return ::poll(&p, 1, -1) > 0 && !(p.revents & (POLLERR | POLLNVAL));
}

// Sends `data` over the non-blocking TLS stream.
bool tls_send(SSL* ssl, int fd, std::string_view data) {
  while (!data.empty()) {
    int n = ::SSL_write(ssl, data.data(), static_cast<int>(data.size()));
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    int e = ::SSL_get_error(ssl, n);
    if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) || !wait_for(fd, e)) return false;
  }
  return true;
}

// The child's relay between the TLS stream and its end of the socketpair,
// until either side ends.
[[noreturn]] void relay(SSL* ssl, int tcp, int local) {
  int fl = ::fcntl(tcp, F_GETFL);
  ::fcntl(tcp, F_SETFL, fl | O_NONBLOCK);
  char buf[16384];
  for (;;) {
    pollfd p[2] = {{tcp, POLLIN, 0}, {local, POLLIN, 0}};
    if (::SSL_pending(ssl) == 0 && ::poll(p, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (::SSL_pending(ssl) > 0 || p[0].revents) {
      int n = ::SSL_read(ssl, buf, sizeof buf);
      if (n > 0) {
        if (!supervisor::write_all(local, std::string_view(buf, static_cast<size_t>(n)))) break;
      } else if (int e = ::SSL_get_error(ssl, n); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
        break;
      }
    }
    if (p[1].revents) {
      ssize_t n = ::read(local, buf, sizeof buf);
      if (n <= 0 || !tls_send(ssl, tcp, std::string_view(buf, static_cast<size_t>(n)))) break;
    }
  }
  ::_exit(0);
}

}  // namespace

UniqueFd Connection::into_fd() {
  if (!ssl_) return std::move(fd_);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) die(1, "socketpair: " + std::string(std::strerror(errno)));
  UniqueFd mine(pair[0]), theirs(pair[1]);
  pid_t pid = ::fork();
  if (pid < 0) die(1, "fork: " + std::string(std::strerror(errno)));
  if (pid == 0) {
    mine.reset();
    relay(ssl_.get(), fd_.get(), theirs.get());
  }
  // The child owns the TLS stream now; freeing our copy sends nothing.
  ssl_.reset();
  fd_.reset();
  return mine;
}

}  // namespace berth::cli
