// http.cpp — one HTTP exchange over libcurl: headers collected per
// response (redirects reset them), bodies to memory or a sink, uploads
// from memory or a file range, stall and total timeouts.
#include "http.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <optional>

namespace berth::images::http {

namespace {

std::once_flag g_curl_init;

constexpr size_t kErrorBodyLimit = 64 * 1024;
constexpr size_t kHeaderBytesLimit = 256 * 1024;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

// State shared with the callbacks of one perform().
struct Transfer {
  const Request& req;
  const std::atomic<bool>* cancel;
  Response resp;
  size_t header_bytes = 0;
  bool body_started = false;
  bool to_sink = false;
  std::optional<Error> failure;  // set by a callback that stopped the transfer
  size_t upload_pos = 0;
};

size_t on_header(char* p, size_t size, size_t n, void* ud) {
  auto& t = *static_cast<Transfer*>(ud);
  size_t len = size * n;
  t.header_bytes += len;
  if (t.header_bytes > kHeaderBytesLimit) {
    t.failure = Error(EPROTO, "response headers larger than " + std::to_string(kHeaderBytesLimit) + " bytes");
    return 0;
  }
  std::string_view line = trim(std::string_view(p, len));
  if (line.rfind("HTTP/", 0) == 0) {
    // A new response (after a redirect or a 100 Continue): start over.
    t.resp.headers.clear();
    size_t sp = line.find(' ');
    t.resp.status = sp == std::string_view::npos ? 0 : std::atol(std::string(line.substr(sp + 1, 3)).c_str());
    return len;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos)
    t.resp.headers.emplace_back(lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  return len;
}

size_t on_write(char* p, size_t size, size_t n, void* ud) {
  auto& t = *static_cast<Transfer*>(ud);
  size_t len = size * n;
  if (!t.body_started) {
    t.body_started = true;
    t.to_sink = t.req.sink && t.resp.status >= 200 && t.resp.status < 300;
    if (t.to_sink && t.req.on_headers) {
      auto st = t.req.on_headers(t.resp);
      if (!st) {
        t.failure = std::move(st).error();
        return 0;
      }
    }
  }
  if (t.to_sink) {
    auto st = t.req.sink(p, len);
    if (!st) {
      t.failure = std::move(st).error();
      return 0;
    }
    return len;
  }
  size_t limit = t.req.sink ? kErrorBodyLimit : t.req.body_limit;
  if (t.resp.body.size() + len > limit) {
    t.failure = Error(EFBIG, "response body larger than " + std::to_string(limit) + " bytes");
    return 0;
  }
  t.resp.body.append(p, len);
  return len;
}

size_t on_read(char* buf, size_t size, size_t n, void* ud) {
  auto& t = *static_cast<Transfer*>(ud);
  size_t max = size * n;
  if (t.req.upload_fd < 0) {
    size_t k = std::min(max, t.req.data.size() - t.upload_pos);
    std::copy_n(t.req.data.data() + t.upload_pos, k, buf);
    t.upload_pos += k;
    return k;
  }
  uint64_t left = t.req.upload_size - t.upload_pos;
  size_t want = static_cast<size_t>(std::min<uint64_t>(max, left));
  if (want == 0) return 0;
  for (;;) {
    ssize_t r = ::pread(t.req.upload_fd, buf, want, static_cast<off_t>(t.req.upload_offset + t.upload_pos));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      t.failure = r < 0 ? Error::os("read upload body") : Error(EIO, "read upload body: file shrank");
      return CURL_READFUNC_ABORT;
    }
    t.upload_pos += static_cast<size_t>(r);
    return static_cast<size_t>(r);
  }
}

int on_progress(void* ud, curl_off_t, curl_off_t dlnow, curl_off_t, curl_off_t ulnow) {
  auto& t = *static_cast<Transfer*>(ud);
  if (t.cancel && t.cancel->load()) return 1;
  if (t.req.progress) t.req.progress(static_cast<uint64_t>(dlnow), static_cast<uint64_t>(ulnow));
  return 0;
}

int errno_for(CURLcode c) {
  switch (c) {
    case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
    case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY: return EHOSTUNREACH;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR: return ECONNRESET;
    case CURLE_ABORTED_BY_CALLBACK: return ECANCELED;
    case CURLE_OUT_OF_MEMORY: return ENOMEM;
    default: return EPROTO;
  }
}

struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

const std::string* Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return &v;
  return nullptr;
}

Handle::Handle() {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  curl_ = curl_easy_init();
}

Handle::~Handle() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Pool::Lease Pool::take() {
  std::lock_guard<std::mutex> g(mu_);
  if (idle_.empty()) return Lease(*this, std::make_unique<Handle>());
  auto h = std::move(idle_.back());
  idle_.pop_back();
  return Lease(*this, std::move(h));
}

void Pool::put(std::unique_ptr<Handle> h) {
  std::lock_guard<std::mutex> g(mu_);
  idle_.push_back(std::move(h));
}

Result<Response> perform(Handle& h, const Request& req, const Tls& tls, const std::atomic<bool>* cancel) {
  std::string what = req.method + " " + req.url;
  CURL* c = static_cast<CURL*>(h.raw());
  if (!c) return Error(ENOMEM, what + ": cannot create a libcurl handle");
  curl_easy_reset(c);
  Transfer t{req, cancel, {}, 0, false, false, std::nullopt, 0};
  char errbuf[CURL_ERROR_SIZE] = {0};

  std::unique_ptr<curl_slist, SlistDeleter> headers;
  auto add_header = [&](const std::string& hdr) { headers.reset(curl_slist_append(headers.release(), hdr.c_str())); };
  for (const auto& hdr : req.headers) add_header(hdr);
  add_header("Expect:");  // no 100-continue round trip before uploads

  curl_easy_setopt(c, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // Blob downloads are redirected to storage by many registries; libcurl
  // drops a custom Authorization header when the host changes.
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);  // fewer, larger writes into the blob
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, req.connect_seconds);
  // Less than one byte a second for stall_seconds: the peer hangs.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, req.stall_seconds);
  if (req.total_seconds > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT, req.total_seconds);
  if (!tls.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, tls.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);

  bool has_body = req.send_data || req.upload_fd >= 0;
  uint64_t body_size = req.upload_fd >= 0 ? req.upload_size : req.data.size();
  if (req.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (req.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else if (req.method == "POST" && !has_body) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
  } else if (has_body || req.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &t);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
    if (req.method != "PUT") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  } else {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());

  CURLcode rc = curl_easy_perform(c);
  char* eff = nullptr;
  if (curl_easy_getinfo(c, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK && eff) t.resp.url = eff;
  long code = 0;
  if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code != 0) t.resp.status = code;
  if (rc == CURLE_OK) return std::move(t.resp);
  if (t.failure && rc != CURLE_ABORTED_BY_CALLBACK) return std::move(*t.failure);
  std::string detail = errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc);
  while (!detail.empty() && detail.back() == '\n') detail.pop_back();
  if (rc == CURLE_ABORTED_BY_CALLBACK) detail = "stopped";
  return Error(errno_for(rc), what + ": " + detail);
}

std::string url_escape(std::string_view s) {
  static const char* hexd = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hexd[c >> 4];
      out += hexd[c & 15];
    }
  }
  return out;
}

std::string resolve_url(std::string_view base, std::string_view loc) {
  if (loc.rfind("http://", 0) == 0 || loc.rfind("https://", 0) == 0) return std::string(loc);
  size_t scheme_end = base.find("://");
  std::string_view scheme = base.substr(0, scheme_end == std::string_view::npos ? 0 : scheme_end);
  if (loc.rfind("//", 0) == 0) return std::string(scheme) + ":" + std::string(loc);
  size_t auth_start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t path_start = base.find('/', auth_start);
  std::string_view origin = base.substr(0, path_start);
  if (!loc.empty() && loc.front() == '/') return std::string(origin) + std::string(loc);
  std::string_view dir = base.substr(0, base.find('?'));
  dir = dir.substr(0, dir.rfind('/') + 1);
  if (dir.size() < origin.size() + 1) return std::string(origin) + "/" + std::string(loc);
  return std::string(dir) + std::string(loc);
}

bool is_transient(const Error& e) {
  switch (e.code()) {
    case ETIMEDOUT:
    case ECONNREFUSED:
    case ECONNRESET:
    case EHOSTUNREACH: return true;
    default: return false;
  }
}

}  // namespace berth::images::http
