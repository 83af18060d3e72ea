// tls_context.h — berthd's TLS for the API's TCP listener: the server
// context that requires a client certificate, and who the client is.
#pragma once

#include <memory>
#include <string>

#include "berth/base/error.h"
#include "berth/base/host_port.h"
#include "berth/supervisor/access.h"

namespace boost::asio::ssl {
class context;
}  // namespace boost::asio::ssl

struct ssl_st;

namespace berth::supervisor {

/// --listen-tcp and the files its mutual TLS needs.
struct TcpApiOptions {
  HostPort address;
  std::string cert;       // --tls-cert: the server's certificate chain (PEM)
  std::string key;        // --tls-key: its private key (PEM)
  std::string client_ca;  // --tls-client-ca: the CA(s) client certificates must chain to
};

/// A TLS 1.2+ server context with `o`'s certificate and key that requires
/// and verifies a client certificate against `o.client_ca`. Errors name the
/// file that is unreadable, not PEM, or whose key does not match.
Result<std::shared_ptr<boost::asio::ssl::context>> server_tls_context(const TcpApiOptions& o);

/// The verified client certificate of `ssl`: its subject's CN, OUs and Os
/// and its SHA-256 fingerprint (empty when there is none).
CertSubject peer_certificate(ssl_st* ssl);

/// A PEM certificate's subject and fingerprint (berth trust add); errors
/// say what is not a certificate.
Result<CertSubject> pem_certificate(const std::string& pem);

}  // namespace berth::supervisor
