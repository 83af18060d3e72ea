// registry_blobs.cpp — blob download into the store (resumed with Range
// after an interruption) and blob upload (one PUT, or PATCH chunks that
// continue from the registry's own record of what arrived).
#include <sys/stat.h>

#include "registry_impl.h"

namespace berth::images {

namespace {

// "bytes 100-199/200" -> 100.
std::optional<uint64_t> content_range_start(const std::string& v) {
  size_t sp = v.find(' ');
  if (v.rfind("bytes", 0) != 0 || sp == std::string::npos) return std::nullopt;
  size_t dash = v.find('-', sp);
  if (dash == std::string::npos || dash == sp + 1) return std::nullopt;
  std::string n = v.substr(sp + 1, dash - sp - 1);
  if (n.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  return std::strtoull(n.c_str(), nullptr, 10);
}

// The upload status's "Range: 0-<last>" -> bytes received (last + 1).
// Registries say "0-0" for an empty upload too: taken as nothing received
// (were it one byte, resending it is refused, not corrupted).
std::optional<uint64_t> upload_received(const http::Response& r) {
  const std::string* range = r.header("range");
  if (!range) return std::nullopt;
  size_t dash = range->find('-');
  if (dash == std::string::npos) return std::nullopt;
  std::string last = range->substr(dash + 1);
  if (last.empty() || last.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  uint64_t n = std::strtoull(last.c_str(), nullptr, 10);
  return n == 0 ? 0 : n + 1;
}

std::string with_digest(const std::string& location, const Digest& d) {
  return location + (location.find('?') == std::string::npos ? "?" : "&") + "digest=" + http::url_escape(d.str());
}

}  // namespace

Result<bool> RegistryClient::blob_exists(std::string_view repo, const Digest& d) const {
  Call call{"blob " + d.str() + " in " + std::string(repo), repo_scope(repo, false), false, 0};
  std::string u = impl_->url(repo, "blobs/" + d.str());
  auto r = BERTH_TRY(impl_->send(call, [&] {
    http::Request req;
    req.method = "HEAD";
    req.url = u;
    return req;
  }));
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  return impl_->status_error(call, r);
}

Status RegistryClient::fetch_blob(const Store& store, std::string_view repo, const Descriptor& d,
                                  const TransferProgress& progress) const {
  Call call{"blob " + d.digest.str() + " of " + std::string(repo), repo_scope(repo, false), true, 0};
  if (store.has_blob(d.digest)) {
    if (progress) progress(d.size, d.size);
    return {};
  }
  std::string u = impl_->url(repo, "blobs/" + d.digest.str());
  // A partial file from an earlier run is continued once; if what it
  // held turns out wrong, the blob is fetched again from its first byte.
  for (bool fresh : {false, true}) {
    BlobWriter w = BERTH_TRY_CTX(fresh ? store.begin_blob(d.digest, d.size) : store.resume_blob(d.digest, d.size),
                                 call.what);
    uint64_t resumed = w.written();
    // Only bytes that failed to arrive are worth keeping, never bad ones.
    w.keep_partial(true);
    uint64_t start = 0;
    auto build = [&] {
      http::Request req;
      req.url = u;
      start = w.written();
      if (start > 0) req.headers.push_back("Range: bytes=" + std::to_string(start) + "-");
      req.on_headers = [&](const http::Response& r) -> Status {
        if (r.status == 206) {
          const std::string* cr = r.header("content-range");
          auto at = cr ? content_range_start(*cr) : std::nullopt;
          if (!at || *at != w.written())
            return Error(EPROTO, "blob " + d.digest.short_str() + ": bad Content-Range \"" + (cr ? *cr : "") +
                                     "\" for a resume at " + std::to_string(w.written()));
          return {};
        }
        if (w.written() == 0) return {};
        start = 0;  // the server ignored the Range: the whole blob follows
        return w.restart();
      };
      req.sink = [&](const char* p, size_t n) { return w.write(p, n); };
      if (progress) req.progress = [&](uint64_t down, uint64_t) { progress(start + down, d.size); };
      return req;
    };
    if (!(d.size > 0 && w.written() == d.size)) {
      auto r = impl_->send(call, build);
      if (r && r->status == 416 && w.written() > 0) {
        BERTH_TRY_CTX(w.restart(), call.what);
        r = impl_->send(call, build);
      }
      if (!r) return std::move(r).error().wrap(call.what);
      if (r->status != 200 && r->status != 206) return impl_->status_error(call, *r);
    }
    auto st = w.commit();
    if (st) {
      if (progress) progress(d.size, d.size);
      return {};
    }
    if (fresh || resumed == 0) return std::move(st).error().wrap(call.what);
  }
  return {};
}

namespace {

// One blob upload: a session (POST), then either one PUT ?digest= with the
// body or PATCH chunks and a closing PUT. A failed step is retried with
// backoff; a failed chunk asks the registry how much it kept and goes on
// from there, and a lost session starts over with a new one.
class BlobUpload {
public:
  BlobUpload(const RegistrySession& s, std::string_view repo, const Descriptor& d, int fd,
             const TransferProgress& progress)
      : s_(s), repo_(repo), d_(d), fd_(fd), progress_(progress),
        call_{"push blob " + d.digest.str() + " to " + std::string(repo), repo_scope(repo, true), true, 0} {
    once_ = call_;
    once_.attempts = 1;  // uploads are retried here, from a state the registry confirms
  }

  Status run() {
    bool chunked = s_.opts.chunk_size > 0 && d_.size > s_.opts.chunk_size;
    for (;;) {
      BERTH_TRY(open_session());
      if (chunked) {
        auto sent = send_chunks();
        if (!sent) return std::move(sent).error();
        if (!*sent) continue;  // the session was lost: a new one
      }
      auto r = finish(chunked);
      if (r && (r->status == 201 || r->status == 204)) return {};
      BERTH_TRY(retry_or(r));
    }
  }

private:
  Status open_session() {
    auto r = s_.send(call_, [&] {
      http::Request req;
      req.method = "POST";
      req.url = s_.url(repo_, "blobs/uploads/");
      return req;
    });
    if (!r) return std::move(r).error().wrap(call_.what);
    if (r->status != 202) return s_.status_error(call_, *r);
    BERTH_TRY(follow(*r));
    return {};
  }

  // true when every chunk arrived; false when the session is gone.
  Result<bool> send_chunks() {
    uint64_t off = 0;
    while (off < d_.size) {
      uint64_t n = std::min<uint64_t>(s_.opts.chunk_size, d_.size - off);
      auto r = s_.send(once_, [&] {
        http::Request req;
        req.method = "PATCH";
        req.url = location_;
        body(req, off, n);
        req.headers.push_back("Content-Range: " + std::to_string(off) + "-" + std::to_string(off + n - 1));
        return req;
      });
      if (r && r->status == 202) {
        BERTH_TRY(follow(*r));
        off = upload_received(*r).value_or(off + n);
        continue;
      }
      BERTH_TRY(retry_or(r));
      auto status = s_.send(call_, [&] {
        http::Request req;
        req.url = location_;
        return req;
      });
      if (!status || status->status != 204) return false;
      BERTH_TRY(follow(*status));
      off = upload_received(*status).value_or(0);
    }
    return true;
  }

  Result<http::Response> finish(bool chunked) {
    return s_.send(once_, [&] {
      http::Request req;
      req.method = "PUT";
      req.url = with_digest(location_, d_.digest);
      if (!chunked) body(req, 0, d_.size);
      return req;
    });
  }

  void body(http::Request& req, uint64_t off, uint64_t n) const {
    req.headers.push_back("Content-Type: application/octet-stream");
    req.upload_fd = fd_;
    req.upload_offset = off;
    req.upload_size = n;
    if (progress_) req.progress = [this, off](uint64_t, uint64_t up) { progress_(off + up, d_.size); };
  }

  // The next URL of the session, from a Location header.
  Status follow(const http::Response& r) {
    const std::string* loc = r.header("location");
    if (!loc) return Error(EPROTO, call_.what + ": upload answer without a Location");
    location_ = http::resolve_url(r.url, *loc);
    return {};
  }

  // Transport errors and 408/429/5xx wait and return ok (retry); anything
  // else, or too many failures, is the error.
  Status retry_or(const Result<http::Response>& r) {
    Error e = r ? s_.status_error(call_, *r) : r.error().wrap(call_.what);
    bool transient = r ? is_retryable_status(r->status) : http::is_transient(r.error());
    if (!transient || ++failures_ >= std::max(1u, s_.opts.retry.max_attempts) || s_.cancelled->load()) return e;
    s_.pause(backoff_delay(s_.opts.retry, failures_));
    return {};
  }

  const RegistrySession& s_;
  std::string repo_;
  const Descriptor& d_;
  int fd_;
  const TransferProgress& progress_;
  Call call_, once_;
  std::string location_;
  unsigned failures_ = 0;
};

}  // namespace

Status RegistryClient::push_blob(const Store& store, std::string_view repo, const Descriptor& d,
                                 const TransferProgress& progress) const {
  std::string what = "push blob " + d.digest.str() + " to " + std::string(repo);
  if (BERTH_TRY(blob_exists(repo, d.digest))) {
    if (progress) progress(d.size, d.size);
    return {};
  }
  UniqueFd fd = BERTH_TRY_CTX(store.open_blob(d.digest), what);
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return Error::os(what + ": stat");
  if (static_cast<uint64_t>(st.st_size) != d.size)
    return Error::msg(what + ": stored blob has " + std::to_string(st.st_size) + " bytes, descriptor says " +
                      std::to_string(d.size));
  BERTH_TRY(BlobUpload(*impl_, repo, d, fd.get(), progress).run());
  if (progress) progress(d.size, d.size);
  return {};
}

}  // namespace berth::images
