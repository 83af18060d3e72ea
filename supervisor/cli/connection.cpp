// connection.cpp — the CLI's byte stream to berthd: the unix socket, or TCP
// with mutual TLS (OpenSSL) whose handshake failures say which side
// refused.
#include "connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "berth/supervisor/host_port.h"
#include "berth/supervisor/unix_socket.h"
#include "client.h"

namespace berth::cli {

RemoteOptions g_remote;

void Connection::SslFree::operator()(SSL* s) const { ::SSL_free(s); }
void Connection::CtxFree::operator()(SSL_CTX* c) const { ::SSL_CTX_free(c); }

namespace {

std::string openssl_reason() {
  unsigned long e = ::ERR_peek_last_error();
  if (!e) return errno ? std::strerror(errno) : "connection closed";
  const char* r = ::ERR_reason_error_string(e);
  return r ? r : "error " + std::to_string(e);
}

// An alert berthd sends when it does not accept the client's certificate.
bool refused_client_certificate() {
  for (unsigned long e; (e = ::ERR_get_error()) != 0;) {
    switch (ERR_GET_REASON(e)) {
      case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
      case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
      case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
      case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
      case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
      case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
        return true;
      default: break;
    }
  }
  return false;
}

// Exits 5 with what a failed TLS read, write or handshake means.
[[noreturn]] void tls_failed(SSL* ssl, const std::string& where) {
  long verify = ::SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    die(5, "server certificate not trusted (" + where + "): " + ::X509_verify_cert_error_string(verify));
  std::string why = openssl_reason();
  if (refused_client_certificate()) die(5, "server refused the client certificate (" + where + "): " + why);
  die(5, "tls with berthd at " + where + " failed: " + why);
}

// A TCP connection to the first of `a`'s addresses that answers.
UniqueFd connect_tcp(const supervisor::HostPort& a) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(a.port);
  if (int rc = ::getaddrinfo(a.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    die(5, "cannot reach berthd at " + to_string(a) + ": " + ::gai_strerror(rc));
  int err = 0;
  UniqueFd s;
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    UniqueFd c(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol));
    if (c && ::connect(c.get(), ai->ai_addr, ai->ai_addrlen) == 0) {
      s = std::move(c);
      break;
    }
    err = errno;
  }
  ::freeaddrinfo(res);
  if (!s) die(5, "cannot reach berthd at " + to_string(a) + ": " + std::strerror(err));
  return s;
}

SSL_CTX* client_context() {
  for (auto [flag, value] : {std::pair{"--cert", &g_remote.cert}, {"--key", &g_remote.key}, {"--ca", &g_remote.ca}})
    if (value->empty()) die(2, "--remote needs " + std::string(flag) + " (berthd's TCP port is mutual TLS)");
  SSL_CTX* ctx = ::SSL_CTX_new(::TLS_client_method());
  if (!ctx) die(1, "tls: " + openssl_reason());
  ::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  if (::SSL_CTX_use_certificate_chain_file(ctx, g_remote.cert.c_str()) != 1)
    die(2, "--cert " + g_remote.cert + ": " + openssl_reason());
  if (::SSL_CTX_use_PrivateKey_file(ctx, g_remote.key.c_str(), SSL_FILETYPE_PEM) != 1)
    die(2, "--key " + g_remote.key + ": " + openssl_reason());
  if (::SSL_CTX_check_private_key(ctx) != 1)
    die(2, "--key " + g_remote.key + ": does not match the certificate in " + g_remote.cert);
  if (::SSL_CTX_load_verify_locations(ctx, g_remote.ca.c_str(), nullptr) != 1)
    die(2, "--ca " + g_remote.ca + ": " + openssl_reason());
  ::SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  return ctx;
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
  c.ctx_.reset(client_context());
  c.fd_ = connect_tcp(*a);
  c.ssl_.reset(::SSL_new(c.ctx_.get()));
  SSL* ssl = c.ssl_.get();
  // The server's certificate must name the address asked for (its SAN).
  if (a->ipv6 || supervisor::is_ipv4_literal(a->host)) {
    ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(ssl), a->host.c_str());
  } else {
    ::SSL_set_tlsext_host_name(ssl, a->host.c_str());
    ::SSL_set1_host(ssl, a->host.c_str());
  }
  ::SSL_set_fd(ssl, c.fd_.get());
  errno = 0;
  if (::SSL_connect(ssl) != 1) tls_failed(ssl, to_string(*a));
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
    if (n <= 0) tls_failed(ssl_.get(), g_remote.address);
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
  tls_failed(ssl_.get(), g_remote.address);
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
