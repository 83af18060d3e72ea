// peer_client.h — berthd as a client of another node's berthd (a cold
// migration copies a container's disk from its source node): one blocking
// HTTP/1.1 request over the peer's mutual-TLS port, or over a unix socket
// for nodes that share a machine.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/supervisor/tls_client.h"

namespace berth::supervisor {

struct PeerOptions {
  /// berthd's own certificate and key (a client certificate to the peer)
  /// and the CA the peer's certificate must chain to.
  TlsClientFiles tls;
  int timeout_s = 60;  // each read or write (not the whole transfer)
};

struct PeerResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;        // the body, unless it went to a file
  uint64_t body_size = 0;  // bytes of body received
};

/// Parses a response's status line and headers (up to the blank line,
/// which `head` does not hold). Errors (EPROTO) name what is malformed.
Result<PeerResponse> parse_response_head(std::string_view head);

/// The JSON error a berthd answer carries ({"error": ...}), or the status.
std::string peer_error(const PeerResponse& r);

/// Sends one request to `address` ("unix:PATH" or "HOST:PORT", TLS) and
/// reads the whole answer. A 2xx answer's body goes to `body_fd` when it
/// is >= 0 (and must have the announced length); other bodies are read
/// into `body` (at most 1 MiB).
Result<PeerResponse> peer_request(const PeerOptions& o, const std::string& address, std::string_view method,
                                  std::string_view target, std::string_view body = {}, int body_fd = -1);

}  // namespace berth::supervisor
