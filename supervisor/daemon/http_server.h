// http_server.h — the API's HTTP/1.1 server on a listening unix socket
// and, optionally, on a TCP port with mutual TLS.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "berth/base/error.h"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace berth::supervisor {

class Service;
class Operations;
class EventBus;
class TrustStore;

/// What one client may hold: a connection that sends no request for
/// `idle` (between requests, or while one trickles in) is closed; past
/// `max_connections` open at once (both listeners together) a new one is
/// closed at once, and berthd says so in its log.
struct ApiLimits {
  std::chrono::seconds idle{60};
  size_t max_connections = 1024;
  /// Non-terminal execs one client (a uid, or a certificate's name) may
  /// have running at once; past it, 429.
  size_t execs_per_client = 64;
  /// Bytes of events queued for a client that reads its event stream too
  /// slowly: past it, the stream ends with a last "dropped" line.
  size_t event_backlog = 4u << 20;
  /// On the TCP listener, per client certificate: connections open at
  /// once, and requests a second (a bucket of twice as many fills at that
  /// rate); past either, 429 (with Retry-After for the rate).
  size_t tcp_connections_per_client = 64;
  size_t tcp_requests_per_second = 100;
};

/// Where the API's work runs, so that one kind cannot starve another:
/// reads (list, status, images, metrics, log, and the checks before an
/// operation), operations (start, stop, create, set, pulls, builds...), and
/// non-terminal execs, which last as long as their command.
struct ApiPools {
  boost::asio::thread_pool& reads;
  boost::asio::thread_pool& work;
  boost::asio::thread_pool& execs;
};

/// The node a cluster container is being migrated to from this node, if
/// it is: a node certificate may export a container only to that node
/// (its certificate's CN is the node's id). Empty: not a cluster node.
using HandOffs = std::function<std::optional<std::string>(const std::string& cluster_id)>;

/// Accepts connections on `listen_fd` (taken over) for as long as `io`
/// runs. Requests are decoded on the loop; every Service call runs on one
/// of `pools` and its answer is written back from the loop.
/// Each request passes `trust`'s rules first (access.h): the peer's role
/// from its uid and groups, a project-bound client only its projects'.
void serve_api(boost::asio::io_context& io, const ApiPools& pools, int listen_fd, Service& svc,
               Operations& ops, EventBus& events, TrustStore& trust, HandOffs handoffs,
               const ApiLimits& limits = {});

struct TcpApiOptions;

/// Serves the same routes on `o.address` over TLS 1.2+, only to clients
/// whose certificate chains to `o.client_ca`; who asks is "tls:CN", whose
/// role and projects `trust` or the certificate's subject gives. Fails,
/// before accepting anything, when a file is unusable or the port cannot be
/// bound. A failed or silent handshake is logged and closed.
Status serve_api_tcp(boost::asio::io_context& io, const ApiPools& pools, const TcpApiOptions& o,
                     Service& svc, Operations& ops, EventBus& events, TrustStore& trust, HandOffs handoffs,
                     const ApiLimits& limits = {});

}  // namespace berth::supervisor
