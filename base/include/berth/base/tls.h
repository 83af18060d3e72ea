// tls.h — client TLS contexts from PEM files (OpenSSL), shared by every
// client of the project that speaks TLS: the berth CLI and berthd towards
// berthd's mutual-TLS API, and the cluster's clients towards etcd. A
// library of its own (berth_tls): the runtime never links a TLS stack.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <string>

#include "berth/base/error.h"

namespace berth {

struct SslCtxFree {
  void operator()(SSL_CTX* c) const;
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

/// The client's certificate chain and key, and the CA that must have
/// signed the server's certificate (PEM files), with the names of the
/// flags that gave them, for errors.
struct TlsClientFiles {
  std::string cert, key, ca;
  std::string cert_flag = "--cert", key_flag = "--key", ca_flag = "--ca";
  /// Why all three files are needed, said when one is missing; empty: the
  /// certificate and key may be left out together (no client certificate),
  /// the CA may not.
  std::string required_because = "berthd's TCP port is mutual TLS";
};

/// A TLS 1.2+ client context that presents `f`'s certificate (if any) and
/// verifies the server's against `f.ca` alone. Errors (EINVAL) name the
/// flag and file that is missing, unreadable, not PEM of the right kind, or
/// whose key does not match the certificate.
Result<SslCtxPtr> client_tls_context(const TlsClientFiles& f);

/// Whether OpenSSL error `e` is an alert a server sends when it does not
/// accept the client's certificate (bad, unknown CA, expired, required...).
bool refused_client_certificate(unsigned long e);

/// OpenSSL's reason for the last failure on this thread (or errno's).
std::string openssl_reason();

}  // namespace berth
