// peer_client.cpp — one blocking HTTP/1.1 request to another berthd, over
// mutual TLS or a unix socket; the answer's body streamed to a file.
#include "berth/supervisor/peer_client.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "berth/base/json.h"
#include "berth/supervisor/unix_socket.h"

namespace berth::supervisor {

namespace {

constexpr size_t kMaxHead = 64 << 10;
constexpr size_t kMaxErrorBody = 1 << 20;

// The connection: a unix socket, or a TCP socket with a TLS session.
struct Link {
  UniqueFd fd;
  SslCtxPtr ctx;
  SslPtr ssl;
  std::string where;

  Status send(std::string_view data) {
    if (!ssl) return write_all(fd.get(), data).ok() ? ok() : Status(Error::os("write to berthd at " + where));
    while (!data.empty()) {
      errno = 0;
      int n = ::SSL_write(ssl.get(), data.data(), static_cast<int>(std::min<size_t>(data.size(), 1 << 20)));
      if (n <= 0) return Error(EIO, tls_failure(ssl.get(), where));
      data.remove_prefix(static_cast<size_t>(n));
    }
    return ok();
  }
  // Up to `n` bytes; 0 at the end of the stream.
  Result<size_t> recv(char* buf, size_t n) {
    if (!ssl) {
      for (;;) {
        ssize_t got = ::read(fd.get(), buf, n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return Error::os(errno == EAGAIN ? "read from berthd at " + where + ": timed out" : "read from berthd at " + where);
        return static_cast<size_t>(got);
      }
    }
    errno = 0;
    int got = ::SSL_read(ssl.get(), buf, static_cast<int>(std::min<size_t>(n, 1 << 20)));
    if (got > 0) return static_cast<size_t>(got);
    int err = ::SSL_get_error(ssl.get(), got);
    if (err == SSL_ERROR_ZERO_RETURN) return size_t{0};
    if (err == SSL_ERROR_SYSCALL && ::ERR_peek_error() == 0 && errno == 0) return size_t{0};
    if (err == SSL_ERROR_SYSCALL && errno == EAGAIN) return Error(ETIMEDOUT, "read from berthd at " + where + ": timed out");
    return Error(EIO, tls_failure(ssl.get(), where));
  }
};

Result<Link> open_link(const PeerOptions& o, const std::string& address) {
  Link l;
  l.where = address;
  if (address.rfind("unix:", 0) == 0) {
    l.fd = BERTH_TRY_CTX(connect_unix(address.substr(5)), "berthd at " + address);
  } else {
    HostPort a = BERTH_TRY_CTX(parse_host_port(address), "peer address");
    l.ctx = BERTH_TRY(client_tls_context(o.tls));
    l.fd = BERTH_TRY(connect_tcp(a));
  }
  timeval tv{o.timeout_s, 0};
  ::setsockopt(l.fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(l.fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (l.ctx) l.ssl = BERTH_TRY(tls_connect(l.ctx.get(), l.fd.get(), BERTH_TRY(parse_host_port(address))));
  return l;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<PeerResponse> parse_response_head(std::string_view head) {
  PeerResponse r;
  size_t eol = head.find("\r\n");
  std::string_view status = head.substr(0, eol);
  if (status.rfind("HTTP/1.", 0) != 0 || status.size() < 12 || status[8] != ' ')
    return Error(EPROTO, "answer: not an HTTP/1.x status line: " + std::string(status.substr(0, 40)));
  std::string code(status.substr(9, 3));
  if (!std::all_of(code.begin(), code.end(), ::isdigit)) return Error(EPROTO, "answer: bad status code " + code);
  r.status = std::atoi(code.c_str());
  while (eol != std::string_view::npos) {
    head.remove_prefix(eol + 2);
    eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    if (line.empty()) continue;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return Error(EPROTO, "answer: malformed header line: " + std::string(line.substr(0, 40)));
    r.headers[lower(std::string(line.substr(0, colon)))] = std::string(trim(line.substr(colon + 1)));
  }
  return r;
}

std::string peer_error(const PeerResponse& r) {
  if (auto doc = json::parse(r.body); doc && doc->is_object())
    if (const json::Value* e = doc->find("error"); e && e->is_string()) return e->as_string();
  return "HTTP status " + std::to_string(r.status);
}

Result<PeerResponse> peer_request(const PeerOptions& o, const std::string& address, std::string_view method,
                                  std::string_view target, std::string_view body, int body_fd) {
  Link l = BERTH_TRY(open_link(o, address));
  std::string req = std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: berthd\r\nConnection: close\r\n";
  if (!body.empty()) req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  BERTH_TRY(l.send(req));
  // The head, and whatever part of the body came with it.
  std::string buf;
  size_t end;
  char chunk[64 << 10];
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (buf.size() > kMaxHead) return Error(EPROTO, "berthd at " + address + ": answer head too large");
    size_t n = BERTH_TRY(l.recv(chunk, sizeof chunk));
    if (n == 0) return Error(EPROTO, "berthd at " + address + ": connection closed before an answer");
    buf.append(chunk, n);
  }
  PeerResponse r = BERTH_TRY_CTX(parse_response_head(std::string_view(buf).substr(0, end)), "berthd at " + address);
  std::string rest = buf.substr(end + 4);
  std::optional<uint64_t> length;
  if (auto it = r.headers.find("content-length"); it != r.headers.end()) length = std::strtoull(it->second.c_str(), nullptr, 10);
  bool to_file = body_fd >= 0 && r.status / 100 == 2;
  uint64_t limit = to_file ? UINT64_MAX : kMaxErrorBody;
  auto take = [&](const char* p, size_t n) -> Status {
    r.body_size += n;
    if (r.body_size > limit) return Error(EPROTO, "berthd at " + address + ": answer too large");
    if (!to_file) {
      r.body.append(p, n);
      return ok();
    }
    if (!write_all(body_fd, std::string_view(p, n))) return Error::os("write the answer of berthd at " + address);
    return ok();
  };
  if (length && rest.size() > *length) rest.resize(*length);
  BERTH_TRY(take(rest.data(), rest.size()));
  while (!length || r.body_size < *length) {
    size_t want = sizeof chunk;
    if (length) want = std::min<uint64_t>(want, *length - r.body_size);
    size_t n = BERTH_TRY(l.recv(chunk, want));
    if (n == 0) break;
    BERTH_TRY(take(chunk, n));
  }
  if (length && r.body_size != *length)
    return Error(EPROTO, "berthd at " + address + ": answer cut short (" + std::to_string(r.body_size) + " of " +
                             std::to_string(*length) + " bytes)");
  return r;
}

}  // namespace berth::supervisor
