// connection.h — the berth CLI's connection to berthd: its unix socket, or
// (--remote) its TCP port with mutual TLS.
#pragma once

#include <openssl/types.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "berth/base/fd.h"
#include "berth/supervisor/tls_client.h"

namespace berth::cli {

/// --remote HOST:PORT with the client's certificate and key and the CA that
/// must have signed berthd's certificate (or $BERTH_REMOTE, $BERTH_TLS_CERT,
/// $BERTH_TLS_KEY, $BERTH_TLS_CA). Empty address: the unix socket.
struct RemoteOptions {
  std::string address, cert, key, ca;
};
extern RemoteOptions g_remote;

class Connection {
public:
  /// Connects to berthd (g_remote, else g_socket); exits 5 with the reason
  /// when it cannot, naming a TLS failure's side ("server certificate not
  /// trusted", "server refused the client certificate").
  static Connection open();

  /// Sends all of `data`; exits 5 when the connection fails.
  void write_all(std::string_view data);

  /// Reads up to `n` bytes; 0 at the end of the stream; exits 5 when the
  /// connection fails (over TLS 1.3 also when berthd refuses the client's
  /// certificate, which it says after the client's handshake completed).
  size_t read(char* buf, size_t n);

  /// The connection as a file descriptor for a poll()-driven session: the
  /// unix socket, or one end of a socketpair whose other end a child
  /// process relays to and from the TLS stream. The Connection is spent.
  UniqueFd into_fd();

private:
  Connection() = default;

  UniqueFd fd_;
  supervisor::SslCtxPtr ctx_;
  supervisor::SslPtr ssl_;
};

}  // namespace berth::cli
