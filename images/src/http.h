// http.h — the one place that calls libcurl: a pooled easy handle and a
// perform() that turns one HTTP exchange into a Response or an Error.
// Transport errors carry an errno that says whether a retry may help
// (ETIMEDOUT, ECONNREFUSED, ECONNRESET, EHOSTUNREACH); TLS and protocol
// errors carry EPROTO, a stop requested by the caller ECANCELED.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/error.h"

namespace berth::images::http {

struct Response {
  long status = 0;
  /// Headers of the final response (after redirects); names lowercased.
  std::vector<std::pair<std::string, std::string>> headers;
  /// The body when no sink took it, or a non-2xx body (bounded).
  std::string body;
  /// The URL the final response came from (after redirects).
  std::string url;
  /// Tries it took (set by the registry client's retry loop).
  unsigned attempts = 1;

  const std::string* header(std::string_view name) const;
};

struct Request {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  /// A body from memory (PUT/PATCH/POST).
  std::string_view data;
  bool send_data = false;
  /// A body from a file range; used when upload_fd >= 0.
  int upload_fd = -1;
  uint64_t upload_offset = 0;
  uint64_t upload_size = 0;
  /// When set, the body of a 2xx response goes here instead of
  /// Response::body; an error aborts the transfer and is returned.
  std::function<Status(const char*, size_t)> sink;
  /// Called once, before the first byte reaches the sink.
  std::function<Status(const Response&)> on_headers;
  /// Bytes moved (down, up), for progress.
  std::function<void(uint64_t, uint64_t)> progress;
  /// Bodies kept in memory may not be larger than this.
  size_t body_limit = 4u << 20;
  /// Abort unless data moves for `stall_seconds`.
  long stall_seconds = 60;
  /// Abort when the whole exchange takes longer (0: no limit).
  long total_seconds = 0;
  long connect_seconds = 15;
};

struct Tls {
  std::string ca_file;
};

/// One libcurl easy handle (keeps its connections between requests).
class Handle {
public:
  Handle();
  ~Handle();
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  void* raw() const { return curl_; }

private:
  void* curl_;
};

/// Idle handles, so that sequential calls reuse connections and parallel
/// ones each get their own.
class Pool {
public:
  class Lease {
  public:
    Lease(Pool& p, std::unique_ptr<Handle> h) : pool_(&p), h_(std::move(h)) {}
    Lease(Lease&&) = default;
    ~Lease() {
      if (h_) pool_->put(std::move(h_));
    }
    Handle& operator*() { return *h_; }

  private:
    Pool* pool_;
    std::unique_ptr<Handle> h_;
  };
  Lease take();

private:
  void put(std::unique_ptr<Handle> h);
  std::mutex mu_;
  std::vector<std::unique_ptr<Handle>> idle_;
};

/// Performs one exchange. A non-2xx status is not an error here: the
/// caller reads Response::status. `cancel` is polled during the transfer.
Result<Response> perform(Handle& h, const Request& req, const Tls& tls, const std::atomic<bool>* cancel);

/// Percent-encodes a query parameter value.
std::string url_escape(std::string_view s);

/// Resolves a Location header against the URL it came from.
std::string resolve_url(std::string_view base, std::string_view location);

/// True for errors of perform() that a retry may cure.
bool is_transient(const Error& e);

}  // namespace berth::images::http
