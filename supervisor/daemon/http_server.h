// http_server.h — the API's HTTP/1.1 server on a listening unix socket.
#pragma once

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace berth::supervisor {

class Service;
class Operations;
class EventBus;

/// Accepts connections on `listen_fd` (taken over) for as long as `io`
/// runs. Requests are decoded on the loop; every Service call runs on
/// `pool` and its answer is written back from the loop.
void serve_api(boost::asio::io_context& io, boost::asio::thread_pool& pool, int listen_fd, Service& svc,
               Operations& ops, EventBus& events);

}  // namespace berth::supervisor
