// tls_client.cpp — connections and handshakes for berthd's mutual-TLS
// API; a failed handshake names the side that refused.
#include "berth/supervisor/tls_client.h"

#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <cerrno>

namespace berth::supervisor {

void SslFree::operator()(SSL* s) const { ::SSL_free(s); }

namespace {

// An alert berthd sends when it does not accept the client's certificate,
// among the errors queued on this thread.
bool refused_client_certificate() {
  bool refused = false;
  for (unsigned long e; (e = ::ERR_get_error()) != 0;) refused |= berth::refused_client_certificate(e);
  return refused;
}

}  // namespace

std::string tls_failure(SSL* ssl, const std::string& where) {
  long verify = ::SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    return "server certificate not trusted (" + where + "): " + ::X509_verify_cert_error_string(verify);
  std::string why = openssl_reason();
  if (refused_client_certificate()) return "server refused the client certificate (" + where + "): " + why;
  return "tls with berthd at " + where + " failed: " + why;
}

Result<UniqueFd> connect_tcp(const HostPort& a) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(a.port);
  if (int rc = ::getaddrinfo(a.host.c_str(), port.c_str(), &hints, &res); rc != 0)
    return Error(EHOSTUNREACH, "cannot reach berthd at " + to_string(a) + ": " + ::gai_strerror(rc));
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
  if (!s) return Error(err, "cannot reach berthd at " + to_string(a));
  return s;
}

Result<SslPtr> tls_connect(SSL_CTX* ctx, int fd, const HostPort& a) {
  SslPtr ssl(::SSL_new(ctx));
  if (!ssl) return Error::msg("tls: " + openssl_reason());
  // The server's certificate must name the address asked for (its SAN).
  if (a.ipv6 || is_ipv4_literal(a.host)) {
    ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(ssl.get()), a.host.c_str());
  } else {
    ::SSL_set_tlsext_host_name(ssl.get(), a.host.c_str());
    ::SSL_set1_host(ssl.get(), a.host.c_str());
  }
  ::SSL_set_fd(ssl.get(), fd);
  errno = 0;
  if (::SSL_connect(ssl.get()) != 1) return Error(ECONNREFUSED, tls_failure(ssl.get(), to_string(a)));
  return ssl;
}

}  // namespace berth::supervisor
