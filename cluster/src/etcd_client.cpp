// etcd_client.cpp — the blocking gateway client and the reconnecting
// watcher, over libcurl (one easy handle per client, kept alive), with
// TLS and an etcd user when given.
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>

#include "berth/base/log.h"
#include "berth/base/strings.h"
#include "berth/base/tls.h"
#include "berth/cluster/etcd.h"

namespace berth::cluster {

class EtcdCredentials {
public:
  TlsClientFiles tls;  // ca empty: no TLS files given
  std::string user, password;

  std::string token() const {
    std::lock_guard<std::mutex> l(mu_);
    return token_;
  }
  void set_token(std::string t) {
    std::lock_guard<std::mutex> l(mu_);
    token_ = std::move(t);
  }
  /// Forgets `t` unless another thread has replaced it already.
  void drop_token(const std::string& t) {
    std::lock_guard<std::mutex> l(mu_);
    if (token_ == t) token_.clear();
  }

private:
  mutable std::mutex mu_;
  std::string token_;
};

Result<std::shared_ptr<EtcdCredentials>> etcd_credentials(const EtcdSecurityOptions& o) {
  if (o.cacert.empty() && o.cert.empty() && o.key.empty() && o.user.empty()) return std::shared_ptr<EtcdCredentials>();
  auto c = std::make_shared<EtcdCredentials>();
  if (!o.cacert.empty() || !o.cert.empty() || !o.key.empty()) {
    c->tls = TlsClientFiles{o.cert, o.key, o.cacert, "--etcd-cert", "--etcd-key", "--etcd-cacert", ""};
    BERTH_TRY(client_tls_context(c->tls));  // loaded here to be checked; libcurl loads them per connection
  }
  if (!o.user.empty()) {
    size_t colon = o.user.find(':');
    c->user = o.user.substr(0, colon);
    if (colon != std::string::npos) {
      c->password = o.user.substr(colon + 1);
    } else if (const char* pw = std::getenv("BERTH_ETCD_PASSWORD")) {
      c->password = pw;
    } else {
      return Error::msg("--etcd-user " + c->user + ": no password (NAME:PASSWORD, or $BERTH_ETCD_PASSWORD)");
    }
    if (c->user.empty()) return Error::msg("--etcd-user: expected NAME[:PASSWORD], got an empty name");
  }
  return c;
}

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

// What a member asked of the client in a TLS handshake, seen from the
// client's side: whatever the member does next (an alert, or a reset that
// overtakes it), this says whether the client's certificate can have been
// what it refused.
struct Handshake {
  bool asked = false;        // the member asked for a client certificate
  bool have_cert = false;    // and this client had one
  bool issuer_named = true;  // whose issuer is among the CAs the member named (or it named none)
};

struct Exchange {
  CURLcode code = CURLE_OK;
  long status = 0;
  bool sent = false;  // some of the request went out
  std::string body;
  std::string detail;  // libcurl's own words on a failure
  Handshake hs;
};

// OpenSSL's callback when the member asks for a client certificate; the
// CA names it sends are there to be compared with the issuer of ours.
int on_certificate_request(SSL* ssl, void* arg) {
  auto* h = static_cast<Handshake*>(arg);
  h->asked = true;
  X509* mine = ::SSL_get_certificate(ssl);
  h->have_cert = mine != nullptr;
  const STACK_OF(X509_NAME)* cas = ::SSL_get_client_CA_list(ssl);
  if (mine && cas && sk_X509_NAME_num(cas) > 0) {
    h->issuer_named = false;
    const X509_NAME* issuer = ::X509_get_issuer_name(mine);
    for (int i = 0; i < sk_X509_NAME_num(cas); ++i)
      if (::X509_NAME_cmp(sk_X509_NAME_value(cas, i), issuer) == 0) h->issuer_named = true;
  }
  return 1;
}

CURLcode on_ssl_context(CURL*, void* ctx, void* arg) {
  ::SSL_CTX_set_cert_cb(static_cast<SSL_CTX*>(ctx), on_certificate_request, arg);
  return CURLE_OK;
}

/// Headers of one request, freed with it.
struct Headers {
  curl_slist* list = nullptr;
  ~Headers() { curl_slist_free_all(list); }
};

// TLS files and the user's token on a handle that was just reset. The CA
// given is the only one trusted (no system store).
void secure(CURL* c, const EtcdCredentials* cr, const std::string& token, Headers& h, char* errbuf) {
  errbuf[0] = 0;
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  // HTTP/1.1 over TLS too (libcurl would offer HTTP/2): one protocol, and
  // the failures the member selection is built on, whatever the scheme.
  curl_easy_setopt(c, CURLOPT_HTTP_VERSION, long(CURL_HTTP_VERSION_1_1));
  if (!cr) return;
  if (!cr->tls.ca.empty()) {
    curl_easy_setopt(c, CURLOPT_CAINFO, cr->tls.ca.c_str());
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
  }
  if (!cr->tls.cert.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, cr->tls.cert.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, cr->tls.key.c_str());
  }
  if (!token.empty()) {
    h.list = curl_slist_append(h.list, ("Authorization: " + token).c_str());
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h.list);
  }
}

/// A failed exchange that waiting or another member will not mend: the
/// TLS handshake refused either way, or the member's certificate not
/// trusted. Names the endpoint and the flag to look at; empty otherwise.
std::string tls_refusal(const Exchange& x, const std::string& endpoint, const EtcdCredentials* cr) {
  std::string d = x.detail.empty() ? curl_easy_strerror(x.code) : x.detail;
  bool alert = d.find("alert") != std::string::npos;
  auto cert = [&] {
    return cr && !cr->tls.cert.empty() ? "--etcd-cert " + cr->tls.cert : std::string("no --etcd-cert given");
  };
  if (x.code == CURLE_OK) {
    // etcd's gateway cannot pass a certificate's name on as the user, and
    // with auth on it refuses a client certificate that has one.
    if (x.status == 400 && x.body.find("CommonName of client sending a request against gateway") != std::string::npos)
      return "etcd " + endpoint + " refused " + cert() +
             ": its subject has a CommonName, which etcd's JSON gateway refuses when auth is enabled (use a "
             "certificate "
             "without one; the user is --etcd-user)";
    return {};
  }
  switch (x.code) {
    case CURLE_PEER_FAILED_VERIFICATION:
      return "etcd " + endpoint + ": its certificate is not trusted (" +
             (cr && !cr->tls.ca.empty() ? "--etcd-cacert " + cr->tls.ca : std::string("no --etcd-cacert given")) +
             "): " + d;
    case CURLE_SSL_CERTPROBLEM: return "etcd " + endpoint + ": " + cert() + ": " + d;
    case CURLE_SSL_CACERT_BADFILE: return "etcd " + endpoint + ": --etcd-cacert: " + d;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      // The member's alert may come after the client's handshake is done
      // (TLS 1.3), or be overtaken by its reset: what it asked for tells.
      if (x.hs.asked && !x.hs.have_cert)
        return "etcd " + endpoint +
               " refused the TLS handshake (no --etcd-cert given; it asks for a client certificate): " + d;
      if (x.hs.asked && !x.hs.issuer_named)
        return "etcd " + endpoint + " refused the TLS handshake (" + cert() + " is not from a CA it accepts): " + d;
      if (alert) return "etcd " + endpoint + " refused the TLS handshake (" + cert() + "): " + d;
      if (d.find("wrong version number") != std::string::npos)
        return "etcd " + endpoint + ": not TLS (an http:// member given as https://?): " + d;
      return {};
    default: return {};
  }
}

Exchange do_post(CURL* c, const std::string& url, std::string_view body, long timeout_ms, long connect_ms,
                 const EtcdCredentials* cr = nullptr, const std::string& token = {}) {
  Exchange x;
  Headers h;
  char errbuf[CURL_ERROR_SIZE];
  curl_easy_reset(c);
  secure(c, cr, token, h, errbuf);
  // The callback stays on the connection libcurl keeps for the next
  // request (a renegotiation would call it again): it writes to storage
  // that lives as long as the thread that owns the handle.
  thread_local Handshake seen;
  seen = Handshake();
  if (url.rfind("https://", 0) == 0) {
    curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_context);
    curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &seen);
  }
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
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &x.status);
  long request_size = 0;
  curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &request_size);
  x.sent = request_size > 0;
  if (x.code != CURLE_OK) x.detail = errbuf;
  x.hs = seen;
  return x;
}

/// A new token for the user from `endpoint`; EACCES when etcd refuses the
/// name or password.
Result<std::string> authenticate(CURL* c, const std::string& endpoint, const EtcdConfig& cfg) {
  EtcdCredentials& cr = *cfg.credentials;
  Exchange x = do_post(c, endpoint + "/v3/auth/authenticate", codec::authenticate_request(cr.user, cr.password),
                       cfg.timeout_ms, cfg.connect_timeout_ms, &cr);
  if (std::string refused = tls_refusal(x, endpoint, cfg.credentials.get()); !refused.empty())
    return Error(EACCES, refused);
  if (x.code != CURLE_OK) {
    return Error(errno_of_curl(x.code), x.detail.empty() ? curl_easy_strerror(x.code) : x.detail);
  }
  if (x.status != 200) {
    Error e = codec::error_from(x.status, x.body);
    if (e.code() == ECONNRESET) return e;
    return Error(EACCES, "etcd " + endpoint + ": --etcd-user " + cr.user + ": " + e.message());
  }
  auto token = BERTH_TRY(codec::parse_token(x.body));
  cr.set_token(token);
  return token;
}

/// One request to one member with the user's token when there is a user:
/// a token first fetched when none is held, and replaced once when the
/// member refuses it. A refusal no retry mends comes back in `final`.
Exchange exchange(CURL* c, const std::string& endpoint, std::string_view path, std::string_view body,
                  const EtcdConfig& cfg, std::optional<Error>& final) {
  const EtcdCredentials* cr = cfg.credentials.get();
  bool with_user = cr && !cr->user.empty();
  for (int attempt = 0;; ++attempt) {
    std::string token;
    if (with_user && (token = cr->token()).empty()) {
      auto t = authenticate(c, endpoint, cfg);
      if (!t) {
        Exchange x;
        x.code = CURLE_COULDNT_CONNECT;  // this member did not serve; another may
        x.detail = t.error().what();
        if (t.error().code() == EACCES) final = std::move(t).error();
        return x;
      }
      token = *t;
    }
    Exchange x = do_post(c, endpoint + std::string(path), body, cfg.timeout_ms, cfg.connect_timeout_ms, cr, token);
    if (x.code != CURLE_OK || x.status == 400) {
      std::string refused = tls_refusal(x, endpoint, cfg.credentials.get());
      if (!refused.empty()) final = Error(EACCES, refused);
      if (x.code != CURLE_OK || final) return x;
    }
    if (!with_user || x.status == 200 || attempt > 0 || !codec::token_refused(x.body)) return x;
    cfg.credentials->drop_token(token);
  }
}

}  // namespace

void sleep_unless(long ms, const std::atomic<bool>* stop) {
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    if (stop && stop->load()) return;
    std::this_thread::sleep_for(
        std::min(std::chrono::milliseconds(20),
                 std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now()) +
                     std::chrono::milliseconds(1)));
  }
}

std::vector<std::string> split_endpoints(std::string_view list, std::string_view scheme) {
  std::vector<std::string> out;
  for (std::string_view one : split(list, ',')) {
    while (!one.empty() && one.back() == '/') one.remove_suffix(1);
    if (!one.empty())
      out.emplace_back(one.find("://") == std::string_view::npos ? std::string(scheme) + std::string(one)
                                                                 : std::string(one));
  }
  return out;
}

Result<std::vector<std::string>> etcd_endpoints(std::string_view list, const EtcdCredentials* credentials,
                                                const std::string& flag) {
  bool tls = credentials && !credentials->tls.ca.empty();
  auto out = split_endpoints(list, tls ? "https://" : "http://");
  if (out.empty()) return Error::msg(flag + ": expected etcd's client URLs, got \"" + std::string(list) + "\"");
  for (const auto& e : out) {
    if (e.rfind("https://", 0) == 0) continue;
    if (e.rfind("http://", 0) != 0)
      return Error::msg(flag + ": expected http:// or https:// URLs of etcd, got \"" + e + "\"");
    if (tls) return Error::msg(flag + " " + e + ": plain http with --etcd-cacert (expected https://)");
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
      std::optional<Error> refused;
      x = exchange(impl_->curl, cfg_.endpoints[i], path, body.data() ? body : std::string_view("{}"), cfg_, refused);
      if (refused) return std::move(*refused);
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
      if (e.code() != ECONNRESET || std::chrono::steady_clock::now() >= deadline) return e.wrap("etcd " + url);
    } else if ((x.sent && !any_member) || std::chrono::steady_clock::now() >= deadline) {
      return Error(errno_of_curl(x.code),
                   "etcd " + url + ": " + (x.detail.empty() ? curl_easy_strerror(x.code) : x.detail));
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

Result<TxnResult> Etcd::txn(const std::vector<Compare>& cmp, const std::vector<Op>& success,
                            const std::vector<Op>& failure) {
  // A transaction that only reads may be asked again of another member.
  auto reads = [](const std::vector<Op>& ops) {
    return std::all_of(ops.begin(), ops.end(), [](const Op& o) { return o.kind == Op::Kind::range; });
  };
  auto body =
      BERTH_TRY(post_to_any("/v3/kv/txn", codec::txn_request(cmp, success, failure), reads(success) && reads(failure)));
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
    const EtcdCredentials* cr = cfg_.credentials.get();
    for (const auto& ep : cfg_.endpoints) {
      Exchange x = do_post(impl_->curl, ep + "/health", std::string_view(), std::min(cfg_.timeout_ms, 2000L),
                           cfg_.connect_timeout_ms, cr);
      if (x.code == CURLE_OK && x.status == 200 && x.body.find("\"true\"") != std::string::npos) {
        if (!cr || cr->user.empty()) return ok();
        // Healthy: now the user's password is what may be wrong.
        auto t = authenticate(impl_->curl, ep, cfg_);
        if (t || t.error().code() == EACCES) return t ? ok() : std::move(t).error();
        last = ep + ": authenticate: " + t.error().what();
        continue;
      }
      if (std::string refused = tls_refusal(x, ep, cr); !refused.empty()) return Error(EACCES, refused);
      last = ep + ": " +
             (x.code != CURLE_OK ? (x.detail.empty() ? curl_easy_strerror(x.code) : x.detail)
                                 : "HTTP " + std::to_string(x.status) + " " + x.body);
    }
    long waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
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
  bool canceled = false;
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
  if (b->canceled && b->compact_revision == 0) {
    // Refused (a token etcd no longer knows, a permission): this stream
    // is over; the next one asks again.
    s.error = b->cancel_reason;
    s.canceled = true;
    return;
  }
  if (b->canceled) {
    s.compacted = true;
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
    if (s.compacted || s.canceled) return 0;
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
    std::optional<Error> refused;
    Exchange x = exchange(c, cfg_.endpoints[ep], "/v3/kv/range", body, cfg_, refused);
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
  bool with_user = cfg_.credentials && !cfg_.credentials->user.empty();
  long backoff = 100;
  while (!stop_.load()) {
    reconnect_ = false;
    size_t ep = sel->order(std::chrono::steady_clock::now()).front();
    probe_->member = ep;
    probe_->dead = false;
    probe_->quiet_since = steady_ms();
    Stream s{&cb_, &stop_, &reconnect_, &next_rev_, &probe_->quiet_since, &probe_->dead, {}, false, false, false, {}};
    std::string url = cfg_.endpoints[ep] + "/v3/watch";
    std::string body = codec::watch_request(key_, end_, next_rev_.load());
    std::string token;
    if (with_user && (token = cfg_.credentials->token()).empty()) {
      auto t = authenticate(c, cfg_.endpoints[ep], cfg_);
      if (!t) {
        log::warn("watch " + url + ": authenticate: " + t.error().what());
        sel->bad(ep, std::chrono::steady_clock::now());
        sleep_unless(backoff, &stop_);
        backoff = std::min(backoff * 2, 2000L);
        continue;
      }
      token = *t;
    }
    Headers headers;
    char errbuf[CURL_ERROR_SIZE];
    curl_easy_reset(c);
    secure(c, cfg_.credentials.get(), token, headers, errbuf);
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
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
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
    // A token etcd no longer knows ends the stream (or cancels its watch):
    // the next one gets a new token.
    if (with_user && (codec::token_refused(s.error) || s.canceled)) cfg_.credentials->drop_token(token);
    if (s.got_data && !dead && !s.canceled) backoff = 100;
    log::warn("watch " + url + " ended (" +
              (dead             ? std::string("given up")
               : s.canceled     ? std::string("canceled by etcd")
               : rc == CURLE_OK ? std::string("closed by etcd")
               : errbuf[0]      ? std::string(errbuf)
                                : curl_easy_strerror(rc)) +
              (s.error.empty() ? "" : "; " + s.error) + "); resuming from revision " +
              std::to_string(next_rev_.load()));
    sel->bad(ep, std::chrono::steady_clock::now());
    sleep_unless(backoff, &stop_);
    backoff = std::min(backoff * 2, 2000L);
  }
  curl_easy_cleanup(c);
}

}  // namespace berth::cluster
