// etcd_client.cpp — the blocking gateway client and the reconnecting
// watcher, over libcurl (one easy handle per client, kept alive).
#include <curl/curl.h>

#include <algorithm>
#include <cerrno>
#include <map>
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

size_t to_string(char* p, size_t size, size_t n, void* ud) {
  auto* s = static_cast<std::string*>(ud);
  if (s->size() + size * n > (64u << 20)) return 0;
  s->append(p, size * n);
  return size * n;
}

struct Exchange {
  CURLcode code = CURLE_OK;
  long status = 0;
  bool sent = false;  // some of the request went out
  std::string body;
};

Exchange do_post(CURL* c, const std::string& url, std::string_view body, long timeout_ms, long connect_ms) {
  Exchange x;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, std::min(timeout_ms, connect_ms));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, to_string);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &x.body);
  if (body.data()) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  x.code = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.status);
  long request_size = 0;
  curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &request_size);
  x.sent = request_size > 0;
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

EndpointSelector::EndpointSelector(size_t n, long cooloff_ms) : cooloff_ms_(cooloff_ms), failed_at_(n) {}

std::vector<size_t> EndpointSelector::order(Clock::time_point now) const {
  std::lock_guard<std::mutex> l(mu_);
  size_t n = failed_at_.size();
  std::vector<size_t> healthy, cooling;
  for (size_t k = 0; k < n; ++k) {
    size_t i = (preferred_ + k) % n;
    bool recent = failed_at_[i] != Clock::time_point() && now - failed_at_[i] < std::chrono::milliseconds(cooloff_ms_);
    (recent ? cooling : healthy).push_back(i);
  }
  healthy.insert(healthy.end(), cooling.begin(), cooling.end());
  return healthy;
}

void EndpointSelector::good(size_t i) {
  std::lock_guard<std::mutex> l(mu_);
  if (i >= failed_at_.size()) return;
  preferred_ = i;
  failed_at_[i] = Clock::time_point();
}

void EndpointSelector::bad(size_t i, Clock::time_point now) {
  std::lock_guard<std::mutex> l(mu_);
  if (i >= failed_at_.size()) return;
  failed_at_[i] = now;
  if (preferred_ == i) preferred_ = (i + 1) % failed_at_.size();
}

size_t EndpointSelector::preferred() const {
  std::lock_guard<std::mutex> l(mu_);
  return preferred_;
}

std::shared_ptr<EndpointSelector> EndpointSelector::shared_for(const std::vector<std::string>& endpoints) {
  static std::mutex mu;
  static std::map<std::vector<std::string>, std::weak_ptr<EndpointSelector>> all;
  std::lock_guard<std::mutex> l(mu);
  auto& w = all[endpoints];
  auto s = w.lock();
  if (!s) {
    s = std::make_shared<EndpointSelector>(endpoints.size());
    w = s;
  }
  return s;
}

bool retry_safe(std::string_view path) {
  return path == "/v3/kv/range" || path.rfind("/v3/lease/", 0) == 0 || path.rfind("/v3/maintenance/", 0) == 0;
}

struct Etcd::Impl {
  CURL* curl = nullptr;
  std::shared_ptr<EndpointSelector> sel;
};

Etcd::Etcd(EtcdConfig cfg) : cfg_(std::move(cfg)), impl_(std::make_unique<Impl>()) {
  curl_init();
  impl_->curl = curl_easy_init();
  impl_->sel = EndpointSelector::shared_for(cfg_.endpoints);
}

Etcd::~Etcd() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

Result<std::string> Etcd::post(std::string_view path, std::string_view body) {
  return post_to_any(path, body, retry_safe(path));
}

Result<std::string> Etcd::post_to_any(std::string_view path, std::string_view body, bool any_member) {
  if (cfg_.endpoints.empty()) return Error(EINVAL, "etcd: no endpoint configured");
  if (!impl_->curl) return Error(ENOMEM, "etcd: curl_easy_init failed");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(cfg_.retry_ms);
  long backoff = 100;
  for (;;) {
    Exchange x;
    std::string url;
    for (size_t i : impl_->sel->order(std::chrono::steady_clock::now())) {
      url = cfg_.endpoints[i] + std::string(path);
      x = do_post(impl_->curl, url, body.data() ? body : std::string_view("{}"), cfg_.timeout_ms,
                  cfg_.connect_timeout_ms);
      if (x.code == CURLE_OK && x.status != 503) {
        impl_->sel->good(i);
        break;
      }
      // Unreachable, hung past the deadline, or a member without a
      // leader: the next call starts elsewhere. This one goes on to the
      // next member only when the request cannot have been applied here,
      // or may be applied twice.
      impl_->sel->bad(i, std::chrono::steady_clock::now());
      if (x.code != CURLE_OK && x.sent && !any_member) break;
    }
    if (x.code == CURLE_OK) {
      if (x.status == 200) return std::move(x.body);
      Error e = codec::error_from(x.status, x.body);
      if (e.code() != ECONNRESET || std::chrono::steady_clock::now() >= deadline)
        return e.wrap("etcd " + url);
    } else if ((x.sent && !any_member) || std::chrono::steady_clock::now() >= deadline) {
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
  // A transaction that only reads may be asked again of another member.
  auto reads = [](const std::vector<Op>& ops) {
    return std::all_of(ops.begin(), ops.end(), [](const Op& o) { return o.kind == Op::Kind::range; });
  };
  auto body = BERTH_TRY(post_to_any("/v3/kv/txn", codec::txn_request(cmp, success, failure), reads(success) && reads(failure)));
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
      Exchange x = do_post(impl_->curl, ep + "/health", std::string_view(), std::min(cfg_.timeout_ms, 2000L),
                           cfg_.connect_timeout_ms);
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

// How long a watch stream may stay silent before its member is asked,
// with a linearizable read, whether it still serves: a hung member, or
// one cut off from its quorum, holds a stream open and sends nothing.
constexpr long kWatchProbeMs = 2000;

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

/// The liveness of the current stream, shared by the stream's thread (which
/// marks each byte received and gives up when `dead`) and the probe thread
/// (which asks the stream's member a read when the stream is quiet).
struct Watcher::Probe {
  std::atomic<int64_t> quiet_since{0};  // steady ms; 0: no stream
  std::atomic<size_t> member{0};
  std::atomic<bool> dead{false};
  std::mutex mu;
  std::string why;  // why it is dead
};

namespace {

struct Stream {
  Watcher::Callback* cb;
  std::atomic<bool>* stop;
  std::atomic<bool>* reconnect;
  std::atomic<int64_t>* next_rev;
  std::atomic<int64_t>* quiet_since;
  std::atomic<bool>* dead;
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
  s.quiet_since->store(steady_ms());
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
  return (s.stop->load() || s.reconnect->load() || s.dead->load()) ? 1 : 0;
}

}  // namespace

Watcher::Watcher(EtcdConfig cfg, std::string key, std::string end, int64_t start_revision, Callback on_batch)
    : cfg_(std::move(cfg)),
      key_(std::move(key)),
      end_(std::move(end)),
      cb_(std::move(on_batch)),
      next_rev_(start_revision),
      probe_(std::make_unique<Probe>()) {
  curl_init();
  thread_ = std::thread([this] { run(); });
  probe_thread_ = std::thread([this] { watch_member(); });
}

Watcher::~Watcher() { stop(); }

void Watcher::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (probe_thread_.joinable()) probe_thread_.join();
}

void Watcher::watch_member() {
  CURL* c = curl_easy_init();
  std::string body = codec::range_request(key_, {}, 1, true);
  while (!stop_.load()) {
    sleep_unless(200, &stop_);
    int64_t quiet = probe_->quiet_since.load();
    if (quiet == 0 || probe_->dead.load() || steady_ms() - quiet < kWatchProbeMs) continue;
    size_t ep = probe_->member.load();
    Exchange x = do_post(c, cfg_.endpoints[ep] + "/v3/kv/range", body, cfg_.timeout_ms, cfg_.connect_timeout_ms);
    if (x.code == CURLE_OK && x.status == 200) {
      // Serving: the stream is quiet because nothing changed.
      probe_->quiet_since.compare_exchange_strong(quiet, steady_ms());
      continue;
    }
    if (probe_->member.load() != ep || probe_->quiet_since.load() == 0) continue;  // moved on meanwhile
    std::lock_guard<std::mutex> l(probe_->mu);
    probe_->why = "member did not answer a read: " +
                  (x.code != CURLE_OK ? std::string(curl_easy_strerror(x.code)) : "HTTP " + std::to_string(x.status));
    probe_->dead = true;
  }
  curl_easy_cleanup(c);
}

void Watcher::restart(int64_t start_revision) {
  next_rev_ = start_revision;
  reconnect_ = true;
}

void Watcher::run() {
  CURL* c = curl_easy_init();
  auto sel = EndpointSelector::shared_for(cfg_.endpoints);
  long backoff = 100;
  while (!stop_.load()) {
    reconnect_ = false;
    size_t ep = sel->order(std::chrono::steady_clock::now()).front();
    probe_->member = ep;
    probe_->dead = false;
    probe_->quiet_since = steady_ms();
    Stream s{&cb_, &stop_, &reconnect_, &next_rev_, &probe_->quiet_since, &probe_->dead, {}, false, false, {}};
    std::string url = cfg_.endpoints[ep] + "/v3/watch";
    std::string body = codec::watch_request(key_, end_, next_rev_.load());
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, cfg_.connect_timeout_ms);
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
    probe_->quiet_since = 0;
    bool dead = probe_->dead.load();
    if (dead) {
      std::lock_guard<std::mutex> l(probe_->mu);
      s.error = probe_->why;
    }
    if (stop_.load()) break;
    if (s.compacted) {
      // The owner re-lists and calls restart(); wait for it.
      while (!reconnect_.load() && !stop_.load()) sleep_unless(20, &stop_);
      continue;
    }
    if (reconnect_.load()) continue;
    if (s.got_data && !dead) backoff = 100;
    log::warn("watch " + url + " ended (" +
              (dead ? std::string("given up") : rc == CURLE_OK ? std::string("closed by etcd") : curl_easy_strerror(rc)) +
              (s.error.empty() ? "" : "; " + s.error) + "); resuming from revision " + std::to_string(next_rev_.load()));
    sel->bad(ep, std::chrono::steady_clock::now());
    sleep_unless(backoff, &stop_);
    backoff = std::min(backoff * 2, 2000L);
  }
  curl_easy_cleanup(c);
}

}  // namespace berth::orch
