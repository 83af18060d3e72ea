// tls_client.h — the client side of berthd's mutual TLS for berthd itself,
// when it copies a migrating container's disk from another node (the berth
// CLI's is client/'s http.cpp): the context, the TCP connection and
// a handshake whose failure says which side refused.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "berth/base/host_port.h"
#include "berth/base/tls.h"

namespace berth::supervisor {

struct SslFree {
  void operator()(SSL* s) const;
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// The context from PEM files is base's (berth_tls).
using berth::client_tls_context;
using berth::SslCtxPtr;
using berth::TlsClientFiles;

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
