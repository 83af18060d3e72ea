// etcd_client.cpp — the blocking gateway client and the reconnecting
// watcher, over libcurl (one easy handle per client, kept alive).
#include <curl/curl.h>

#include <cerrno>
#include <mutex>

#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/orchestrator/etcd.h"

namespace berth::orch {

namespace {

std::once_flag g_curl_init;

void curl_init() {
  std::call_once(g_curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

int errno_of_curl(CURLcode c) {
  switch (c) {
    case CURLE_COULDNT_CONNECT: return ECONNREFUSED;
    case CURLE_OPERATION_TIMEDOUT: return ETIMEDOUT;
    case CURLE_COULDNT_RESOLVE_HOST: return EHOSTUNREACH;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE: return ECONNRESET;
    case CURLE_ABORTED_BY_CALLBACK:
    case CURLE_WRITE_ERROR: return ECANCELED;
    default: return EPROTO;
  }
}

// Failures where the request surely did not reach etcd: safe to retry
// anything, even a transaction, on another endpoint.
bool not_sent(CURLcode c) { return c == CURLE_COULDNT_CONNECT || c == CURLE_COULDNT_RESOLVE_HOST; }

size_t to_string(char* p, size_t size, size_t n, void* ud) {
  auto* s = static_cast<std::string*>(ud);
  if (s->size() + size * n > (64u << 20)) return 0;
  s->append(p, size * n);
  return size * n;
}

struct Exchange {
  CURLcode code = CURLE_OK;
  long status = 0;
  std::string body;
};

Exchange do_post(CURL* c, const std::string& url, std::string_view body, long timeout_ms) {
  Exchange x;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, 2000L));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_string);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x.body);
  if (body.data()) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  x.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.status);
  return x;
}

}  // namespace

void sleep_unless(long ms, const std::atomic<bool>* stop) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (stop && stop->load()) return;
    std::this_thread::sleep_for(std::min(std::chrono::milliseconds(20),
                                         std::chrono::duration_cast<std::chrono::milliseconds>(
                                             until - std::chrono::steady_clock::now()) +
                                             std::chrono::milliseconds(1)));
  }
}

std::vector<std::string> split_endpoints(std::string_view list) {
  std::vector<std::string> out;
  for (std::string_view one : split(list, ',')) {
    while (!one.empty() && one.back() == '/') one.remove_suffix(1);
    if (!one.empty()) out.emplace_back(one.find("://") == std::string_view::npos ? "http://" + std::string(one) : std::string(one));
  }
  return out;
}

struct Etcd::Impl {
  CURL* curl = nullptr;
  size_t current = 0;  // the endpoint that answered last
};

Etcd::Etcd(EtcdConfig cfg) : cfg_(std::move(cfg)), impl_(std::make_unique<Impl>()) {
  curl_init();
  impl_->curl = curl_easy_init();
}

Etcd::~Etcd() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

Result<std::string> Etcd::post(std::string_view path, std::string_view body) {
  if (cfg_.endpoints.empty()) return Error(EINVAL, "etcd: no endpoint configured");
  if (!impl_->curl) return Error(ENOMEM, "etcd: curl_easy_init failed");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg_.retry_ms);
  long backoff = 100;
  for (;;) {
    Exchange x;
    std::string url;
    for (size_t tries = 0; tries < cfg_.endpoints.size(); ++tries) {
      url = cfg_.endpoints[impl_->current % cfg_.endpoints.size()] + std::string(path);
      x = do_post(impl_->curl, url, body.data() ? body : std::string_view("{}"), cfg_.timeout_ms);
      if (x.code == CURLE_OK && x.status != 503) break;
      // Unreachable, or a member without a leader: try the next one.
      if (!not_sent(x.code) && x.code != CURLE_OK) break;
      impl_->current++;
    }
    if (x.code == CURLE_OK) {
      if (x.status == 200) return std::move(x.body);
      Error e = codec::error_from(x.status, x.body);
      if (e.code() != ECONNRESET || std::chrono::steady_clock::now() >= deadline)
        return e.wrap("etcd " + url);
    } else if (!not_sent(x.code) || std::chrono::steady_clock::now() >= deadline) {
      return Error(errno_of_curl(x.code), "etcd " + url + ": " + curl_easy_strerror(x.code));
    }
    sleep_unless(backoff, nullptr);
    backoff = std::min(backoff * 2, 2000L);
  }
}

Result<RangeResult> Etcd::get(std::string_view key) { return range(key, {}); }

Result<RangeResult> Etcd::range(std::string_view key, std::string_view end, int64_t limit, bool keys_only) {
  auto body = BERTH_TRY(post("/v3/kv/range", codec::range_request(key, end, limit, keys_only)));
  return codec::parse_range(body);
}

Result<int64_t> Etcd::put(std::string_view key, std::string_view value, int64_t lease) {
  auto body = BERTH_TRY(post("/v3/kv/put", codec::put_request(key, value, lease)));
  return codec::parse_revision(body);
}

Result<int64_t> Etcd::del(std::string_view key, std::string_view end) {
  auto body = BERTH_TRY(post("/v3/kv/deleterange", codec::delete_request(key, end)));
  return codec::parse_revision(body);
}

Result<TxnResult> Etcd::txn(const std::vector<Compare>& cmp, const std::vector<Op>& success, const std::vector<Op>& failure) {
  auto body = BERTH_TRY(post("/v3/kv/txn", codec::txn_request(cmp, success, failure)));
  return codec::parse_txn(body);
}

Result<Lease> Etcd::lease_grant(int64_t ttl) {
  auto body = BERTH_TRY(post("/v3/lease/grant", codec::lease_grant_request(ttl)));
  return codec::parse_lease_grant(body);
}

Result<int64_t> Etcd::lease_keepalive(int64_t id) {
  auto body = BERTH_TRY(post("/v3/lease/keepalive", codec::lease_id_request(id)));
  return codec::parse_keepalive(body);
}

Status Etcd::lease_revoke(int64_t id) {
  auto body = post("/v3/lease/revoke", codec::lease_id_request(id));
  if (!body && body.error().code() != ENOENT) return std::move(body).error();
  return ok();
}

Status Etcd::wait_ready(long give_up_ms, const std::atomic<bool>* stop) {
  auto start = std::chrono::steady_clock::now();
  long backoff = 200;
  for (;;) {
    std::string last;
    for (const auto& ep : cfg_.endpoints) {
      Exchange x = do_post(impl_->curl, ep + "/health", std::string_view(), std::min(cfg_.timeout_ms, 2000L));
      if (x.code == CURLE_OK && x.status == 200 && x.body.find("\"true\"") != std::string::npos) return ok();
      last = ep + ": " + (x.code != CURLE_OK ? curl_easy_strerror(x.code) : "HTTP " + std::to_string(x.status) + " " + x.body);
    }
    long waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    if ((give_up_ms > 0 && waited >= give_up_ms) || (stop && stop->load()))
      return Error(ECONNREFUSED, "etcd not ready after " + std::to_string(waited) + " ms (" + last + ")");
    log::warn("etcd not reachable (" + last + "); retrying in " + std::to_string(backoff) + " ms");
    sleep_unless(backoff, stop);
    backoff = std::min(backoff * 2, 5000L);
  }
}

// ---- watcher ----

namespace {

struct Stream {
  Watcher::Callback* cb;
  std::atomic<bool>* stop;
  std::atomic<bool>* reconnect;
  std::atomic<int64_t>* next_rev;
  std::string buf;
  bool compacted = false;
  bool got_data = false;
  std::string error;
};

void deliver_line(Stream& s, std::string_view line) {
  if (line.empty()) return;
  auto b = codec::parse_watch(line);
  if (!b) {
    s.error = b.error().what();
    return;
  }
  s.got_data = true;
  if (b->canceled) {
    if (b->compact_revision > 0) s.compacted = true;
    (*s.cb)(*b);
    return;
  }
  if (!b->events.empty()) {
    (*s.cb)(*b);
    s.next_rev->store(b->events.back().kv.mod_revision + 1);
  } else if (b->created) {
    (*s.cb)(*b);
  }
}

size_t on_stream(char* p, size_t size, size_t n, void* ud) {
  auto& s = *static_cast<Stream*>(ud);
  if (s.stop->load() || s.reconnect->load()) return 0;
  s.buf.append(p, size * n);
  size_t pos;
  while ((pos = s.buf.find('\n')) != std::string::npos) {
    deliver_line(s, std::string_view(s.buf).substr(0, pos));
    s.buf.erase(0, pos + 1);
    if (s.compacted) return 0;
  }
  return size * n;
}

int on_progress(void* ud, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& s = *static_cast<Stream*>(ud);
  return (s.stop->load() || s.reconnect->load()) ? 1 : 0;
}

}  // namespace

Watcher::Watcher(EtcdConfig cfg, std::string key, std::string end, int64_t start_revision, Callback on_batch)
    : cfg_(std::move(cfg)), key_(std::move(key)), end_(std::move(end)), cb_(std::move(on_batch)), next_rev_(start_revision) {
  curl_init();
  thread_ = std::thread([this] { run(); });
}

Watcher::~Watcher() { stop(); }

void Watcher::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void Watcher::restart(int64_t start_revision) {
  next_rev_ = start_revision;
  reconnect_ = true;
}

void Watcher::run() {
  CURL* c = curl_easy_init();
  size_t ep = 0;
  long backoff = 100;
  while (!stop_.load()) {
    reconnect_ = false;
    Stream s{&cb_, &stop_, &reconnect_, &next_rev_, {}, false, false, {}};
    std::string url = cfg_.endpoints[ep % cfg_.endpoints.size()] + "/v3/watch";
    std::string body = codec::watch_request(key_, end_, next_rev_.load());
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &s);
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (stop_.load()) break;
    if (s.compacted) {
      // The owner re-lists and calls restart(); wait for it.
      while (!reconnect_.load() && !stop_.load()) sleep_unless(20, &stop_);
      continue;
    }
    if (reconnect_.load()) continue;
    if (s.got_data) backoff = 100;
    log::warn("watch " + url + " ended (" + (rc == CURLE_OK ? std::string("closed by etcd") : curl_easy_strerror(rc)) +
              (s.error.empty() ? "" : "; " + s.error) + "); resuming from revision " + std::to_string(next_rev_.load()));
    ++ep;
    sleep_unless(backoff, &stop_);
    backoff = std::min(backoff * 2, 2000L);
  }
  curl_easy_cleanup(c);
}

}  // namespace berth::orch
