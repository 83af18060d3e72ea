// http.cpp — requests to berthd with Boost.Beast's HTTP/1.1 parser and
// serializer on blocking Asio streams: the unix socket, or TCP with mutual
// TLS whose failures say which side refused. The only translation unit of
// the client that includes Asio and Beast.
#include "berth/client/http.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstring>
#include <optional>

#include "berth/base/host_port.h"
#include "berth/base/tls.h"

namespace berth::client {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using error_code = boost::system::error_code;
using unix_socket = asio::local::stream_protocol::socket;
using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;

namespace {

// What a failed TLS handshake, read or write means: the server's
// certificate not trusted, the client's refused, or else what OpenSSL said.
// Asio has taken OpenSSL's first error into `ec`; the rest are queued.
std::string tls_failure(SSL* ssl, const error_code& ec, const std::string& where) {
  long verify = ::SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    return "server certificate not trusted (" + where + "): " + ::X509_verify_cert_error_string(verify);
  bool refused = ec.category() == asio::error::get_ssl_category() && refused_client_certificate(ec.value());
  for (unsigned long e; (e = ::ERR_get_error()) != 0;) refused = refused || refused_client_certificate(e);
  if (refused) return "server refused the client certificate (" + where + "): " + ec.message();
  return "tls with berthd at " + where + " failed: " + ec.message();
}

}  // namespace

struct Connection::Impl {
  asio::io_context io;
  std::optional<unix_socket> local;
  std::optional<asio::ssl::context> ctx;
  std::optional<tls_stream> tls;
  beast::flat_buffer buf;
  std::string where;  // the remote's HOST:PORT, for errors

  // Calls `f` with the stream this connection runs on.
  template <class F>
  auto with_stream(F&& f) {
    return tls ? f(*tls) : f(*local);
  }

  // A failed read or write as an error: the end of the stream where an
  // answer was due is a malformed answer, anything else a lost connection.
  Error failure(const error_code& ec, const char* doing) {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message || ec == asio::error::eof ||
        ec == asio::ssl::error::stream_truncated)
      return Error(EPROTO, "malformed answer from berthd: the connection ended before the answer did");
    if (ec.category() == http::make_error_code(http::error::bad_version).category())
      return Error(EPROTO, "malformed answer from berthd: " + ec.message());
    if (tls && ec.category() == asio::error::get_ssl_category())
      return Error(EHOSTUNREACH, tls_failure(tls->native_handle(), ec, where));
    return Error(EHOSTUNREACH, std::string(doing) + " berthd failed: " + ec.message());
  }

  Status open_unix(const std::string& path) {
    if (path.size() >= sizeof(sockaddr_un{}.sun_path))
      return Error(EHOSTUNREACH, "cannot reach berthd: socket path " + path + ": " + std::strerror(ENAMETOOLONG));
    local.emplace(io);
    error_code ec;
    local->connect(asio::local::stream_protocol::endpoint(path), ec);
    if (ec) return Error(EHOSTUNREACH, "cannot reach berthd: connect " + path + ": " + ec.message());
    return ok();
  }

  Status open_tls(const std::string& address, const TlsClientFiles& files) {
    HostPort a = BERTH_TRY_CTX(parse_host_port(address), "--remote");
    for (auto [flag, value] :
         {std::pair{&files.cert_flag, &files.cert}, {&files.key_flag, &files.key}, {&files.ca_flag, &files.ca}})
      if (value->empty()) return Error(EINVAL, "--remote needs " + *flag + " (berthd's TCP port is mutual TLS)");
    SslCtxPtr c = BERTH_TRY(client_tls_context(files));
    ctx.emplace(c.release());  // the Asio context owns it from here
    where = to_string(a);
    error_code ec;
    asio::ip::tcp::resolver resolver(io);
    auto addresses = resolver.resolve(a.host, std::to_string(a.port), ec);
    if (ec) return Error(EHOSTUNREACH, "cannot reach berthd at " + where + ": " + ec.message());
    tls.emplace(io, *ctx);
    asio::connect(tls->next_layer(), addresses, ec);
    if (ec) return Error(EHOSTUNREACH, "cannot reach berthd at " + where + ": " + ec.message());
    // The server's certificate must name the address asked for (its SAN).
    SSL* ssl = tls->native_handle();
    if (is_ip_literal(a)) {
      ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(ssl), a.host.c_str());
    } else {
      ::SSL_set_tlsext_host_name(ssl, a.host.c_str());
      ::SSL_set1_host(ssl, a.host.c_str());
    }
    tls->handshake(asio::ssl::stream_base::client, ec);
    if (ec) return Error(EHOSTUNREACH, tls_failure(ssl, ec, where));
    return ok();
  }

  Status send(http::request<http::string_body>& req) {
    error_code ec;
    with_stream([&](auto& s) { http::write(s, req, ec); });
    if (ec) return failure(ec, "write to");
    return ok();
  }

  // The rest of an answer whose head `p` holds, whole.
  template <class Parser>
  Result<Response> rest(Parser& p) {
    http::response_parser<http::string_body> whole(std::move(p));
    whole.body_limit(boost::none);
    error_code ec;
    with_stream([&](auto& s) { http::read(s, buf, whole, ec); });
    if (ec) return failure(ec, "read from");
    return Response{static_cast<int>(whole.get().result_int()), std::move(whole.get().body())};
  }
};

namespace {

http::request<http::string_body> make_request(std::string_view method, std::string_view target, std::string_view body) {
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "berthd");
  req.keep_alive(false);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = std::string(body);
  }
  req.prepare_payload();
  return req;
}

}  // namespace

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::Connection(Connection&&) noexcept = default;
Connection& Connection::operator=(Connection&&) noexcept = default;
Connection::~Connection() = default;

Result<Connection> Connection::open(const Endpoint& e) {
  auto impl = std::make_unique<Impl>();
  // Beast reads as much as the buffer has room for, from 512 bytes: room
  // for 64 KiB makes a 300 KB answer (a list of 500 containers) about five
  // reads instead of six hundred.
  impl->buf.reserve(64 * 1024);
  BERTH_TRY(e.remote.empty() ? impl->open_unix(e.socket) : impl->open_tls(e.remote, e.tls));
  return Connection(std::move(impl));
}

Result<Response> Connection::request(std::string_view method, std::string_view target, std::string_view body) {
  auto req = make_request(method, target, body);
  BERTH_TRY(impl_->send(req));
  http::response_parser<http::empty_body> head;
  error_code ec;
  impl_->with_stream([&](auto& s) { http::read_header(s, impl_->buf, head, ec); });
  if (ec) return impl_->failure(ec, "read from");
  return impl_->rest(head);
}

Result<Response> Connection::stream(std::string_view target, const std::function<bool(std::string_view)>& sink) {
  auto req = make_request("GET", target, {});
  BERTH_TRY(impl_->send(req));
  http::response_parser<http::buffer_body> p;
  p.body_limit(boost::none);
  error_code ec;
  impl_->with_stream([&](auto& s) { http::read_header(s, impl_->buf, p, ec); });
  if (ec) return impl_->failure(ec, "read from");
  int status = static_cast<int>(p.get().result_int());
  if (status < 200 || status >= 300) return impl_->rest(p);
  // Piece by piece as berthd sends it (an event stream has no end but the
  // connection's: over TLS berthd closes it without close_notify).
  std::array<char, 65536> chunk;
  while (!p.is_done()) {
    p.get().body().data = chunk.data();
    p.get().body().size = chunk.size();
    impl_->with_stream([&](auto& s) { http::read_some(s, impl_->buf, p, ec); });
    if (ec == http::error::need_buffer) ec = {};
    bool truncated = ec == asio::ssl::error::stream_truncated;
    if (ec && !truncated) return impl_->failure(ec, "read from");
    size_t n = chunk.size() - p.get().body().size;
    if (n > 0 && !sink(std::string_view(chunk.data(), n))) break;
    if (truncated) break;
  }
  return Response{status, {}};
}

namespace {

// The child's relay between the TLS stream and its end of the socketpair,
// until either side ends.
[[noreturn]] void relay(asio::io_context& io, tls_stream& tls, int local_fd) {
  io.notify_fork(asio::execution_context::fork_child);
  unix_socket local(io);
  error_code ec;
  local.assign(asio::local::stream_protocol(), local_fd, ec);
  if (ec) ::_exit(1);
  std::array<char, 16384> down, up;
  std::function<void()> from_tls = [&] {
    tls.async_read_some(asio::buffer(down), [&](error_code e, size_t n) {
      if (e) return io.stop();
      asio::async_write(local, asio::buffer(down.data(), n),
                        [&](error_code e2, size_t) { e2 ? io.stop() : from_tls(); });
    });
  };
  std::function<void()> from_local = [&] {
    local.async_read_some(asio::buffer(up), [&](error_code e, size_t n) {
      if (e) return io.stop();
      asio::async_write(tls, asio::buffer(up.data(), n), [&](error_code e2, size_t) { e2 ? io.stop() : from_local(); });
    });
  };
  from_tls();
  from_local();
  io.run();
  ::_exit(0);
}

}  // namespace

Result<Upgraded> Connection::upgrade(std::string_view method, std::string_view target, std::string_view protocol,
                                     std::string_view body) {
  auto req = make_request(method, target, body);
  req.set(http::field::connection, "Upgrade");
  req.set(http::field::upgrade, protocol);
  BERTH_TRY(impl_->send(req));
  http::response_parser<http::empty_body> head;
  error_code ec;
  impl_->with_stream([&](auto& s) { http::read_header(s, impl_->buf, head, ec); });
  if (ec) return impl_->failure(ec, "read from");
  Upgraded out;
  if (head.get().result() != http::status::switching_protocols) {
    out.answer = BERTH_TRY(impl_->rest(head));
    return out;
  }
  out.answer.status = 101;
  // What came after the head is the session's first bytes.
  out.early = beast::buffers_to_string(impl_->buf.data());
  if (!impl_->tls) {
    out.fd = UniqueFd(::fcntl(impl_->local->native_handle(), F_DUPFD_CLOEXEC, 0));
    if (!out.fd) return Error::os("dup the connection to berthd");
    return out;
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) return Error::os("socketpair");
  UniqueFd mine(pair[0]), theirs(pair[1]);
  pid_t pid = ::fork();
  if (pid < 0) return Error::os("fork the relay of the TLS session");
  if (pid == 0) {
    mine.reset();
    relay(impl_->io, *impl_->tls, theirs.release());
  }
  // The child owns the TLS stream now: ours is freed without a close_notify.
  impl_->io.notify_fork(asio::execution_context::fork_parent);
  out.relay = ChildProcess(pid);
  out.fd = std::move(mine);
  return out;
}

Result<Response> call(const Endpoint& e, std::string_view method, std::string_view target, std::string_view body) {
  Connection c = BERTH_TRY(Connection::open(e));
  return c.request(method, target, body);
}

}  // namespace berth::client
