// tls_client.h — the client side of berthd's mutual TLS, shared by the
// berth CLI (--remote) and by berthd itself when it copies a migrating
// container's disk from another node: the context, the TCP connection and
// a handshake whose failure says which side refused.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "berth/supervisor/host_port.h"

namespace berth::supervisor {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const;
};
struct SslFree {
  void operator()(SSL* s) const;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

/// The client's certificate chain and key, and the CA that must have
/// signed the server's certificate (PEM files), with the names of the
/// flags that gave them, for errors.
struct TlsClientFiles {
  std::string cert, key, ca;
  std::string cert_flag = "--cert", key_flag = "--key", ca_flag = "--ca";
};

/// A TLS 1.2+ client context that presents `f`'s certificate and verifies
/// the server's against `f.ca`. Errors (EINVAL) name the flag and file
/// that is missing, unreadable, or whose key does not match.
Result<SslCtxPtr> client_tls_context(const TlsClientFiles& f);

/// A TCP connection to the first of `a`'s addresses that answers.
Result<UniqueFd> connect_tcp(const HostPort& a);

/// The TLS session over `fd`: the server's certificate must chain to the
/// context's CA and name `a`'s host (an IP SAN for an address). A failed
/// handshake (ECONNREFUSED) says "server certificate not trusted: ..." or
/// "server refused the client certificate: ...".
Result<SslPtr> tls_connect(SSL_CTX* ctx, int fd, const HostPort& a);

/// What a failed TLS read, write or handshake on `ssl` means, in the terms
/// above; `where` is the server's address.
std::string tls_failure(SSL* ssl, const std::string& where);

}  // namespace berth::supervisor
