// http.h — the client's HTTP/1.1 to berthd: its unix socket, or (remote)
// its TCP port with mutual TLS. One request per connection (berthd is told
// Connection: close), answered whole, streamed, or upgraded to a session.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "berth/base/spawn.h"
#include "berth/base/tls.h"

namespace berth::client {

/// Where berthd is: `remote` ("HOST:PORT", TLS with `tls`'s files) when
/// set, else the unix socket `socket`.
struct Endpoint {
  std::string socket = "/run/berthd/berthd.sock";
  std::string remote;
  TlsClientFiles tls;
};

/// Error codes of this library, so that callers can tell the cases apart:
/// EINVAL bad options (a TLS file, an address), EHOSTUNREACH berthd could
/// not be reached or the connection failed (a TLS refusal names the side
/// that refused), EPROTO a malformed answer.
struct Response {
  int status = 0;
  std::string body;
};

/// An upgraded connection (101 Switching Protocols): `fd` carries the
/// session both ways (for TLS, a socketpair end whose other end a child
/// process relays to and from the TLS stream), `early` the session bytes
/// that came with berthd's answer. Any other answer is in `answer`.
struct Upgraded {
  /// Over TLS, the child process relaying the session between `fd` and the
  /// TLS stream; declared first so that it is reaped after `fd` closes.
  ChildProcess relay;
  UniqueFd fd;
  std::string early;
  Response answer;
};

class Connection {
public:
  /// Connects to berthd.
  static Result<Connection> open(const Endpoint& e);
  Connection(Connection&&) noexcept;
  Connection& operator=(Connection&&) noexcept;
  ~Connection();

  /// Sends one request (`body` as JSON unless empty) and reads the whole
  /// answer.
  Result<Response> request(std::string_view method, std::string_view target, std::string_view body = {});

  /// Sends a GET and hands the body of a 2xx answer to `sink` piece by piece
  /// as it arrives, until berthd ends it or `sink` returns false. Another
  /// answer is returned whole, its body not given to `sink`.
  Result<Response> stream(std::string_view target, const std::function<bool(std::string_view)>& sink);

  /// Sends a request asking to switch to `protocol` (the Upgrade header).
  Result<Upgraded> upgrade(std::string_view method, std::string_view target, std::string_view protocol,
                           std::string_view body = {});

private:
  struct Impl;
  explicit Connection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

/// Connection::open() then request(): one call, its whole answer.
Result<Response> call(const Endpoint& e, std::string_view method, std::string_view target, std::string_view body = {});

}  // namespace berth::client
