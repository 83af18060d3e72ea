// registry.cpp — the registry client's request loop (auth, retries) and
// its manifest calls.
#include <openssl/evp.h>
#include <unistd.h>

#include <thread>

#include "berth/base/json.h"
#include "berth/images/reference.h"
#include "registry_impl.h"

namespace berth::images {

namespace {

constexpr std::string_view kManifestAccept =
    "Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json";

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string bare_type(std::string_view t) {
  t = t.substr(0, t.find(';'));
  while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
  return std::string(t);
}

// "test/busybox:tag" or "test/busybox@sha256:..." for messages.
std::string manifest_name(std::string_view repo, std::string_view ref) {
  return std::string(repo) + (ref.rfind("sha256:", 0) == 0 ? "@" : ":") + std::string(ref);
}

}  // namespace

std::string repo_scope(std::string_view repo, bool push) {
  return "repository:" + std::string(repo) + (push ? ":pull,push" : ":pull");
}

// ---- AuthState --------------------------------------------------------------

std::string AuthState::header(const std::string& scope) const {
  std::lock_guard<std::mutex> g(mu_);
  if (auto it = tokens_.find(scope); it != tokens_.end() && it->second.expires > std::chrono::steady_clock::now())
    return "Authorization: Bearer " + it->second.value;
  if (basic_ && credentials) return "Authorization: Basic " + base64(credentials->username + ":" + credentials->password);
  return "";
}

void AuthState::use_basic() {
  std::lock_guard<std::mutex> g(mu_);
  basic_ = true;
}

bool AuthState::basic() const {
  std::lock_guard<std::mutex> g(mu_);
  return basic_;
}

void AuthState::store_token(const std::string& scope, std::string token, std::chrono::seconds ttl) {
  std::lock_guard<std::mutex> g(mu_);
  // Renew a little early so a token does not expire mid-request.
  auto life = ttl > std::chrono::seconds(20) ? ttl - std::chrono::seconds(10) : ttl;
  tokens_[scope] = Token{std::move(token), std::chrono::steady_clock::now() + life};
}

// ---- the request loop -------------------------------------------------------

std::string RegistrySession::url(std::string_view repo, std::string_view rest) const {
  return base + "/v2/" + std::string(repo) + "/" + std::string(rest);
}

void RegistrySession::pause(std::chrono::milliseconds d) const {
  auto until = std::chrono::steady_clock::now() + d;
  while (!cancelled->load() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds(50)));
}

Result<http::Response> RegistrySession::send(const Call& call, const std::function<http::Request()>& build) const {
  unsigned max = call.attempts ? call.attempts : std::max(1u, opts.retry.max_attempts);
  bool challenged = false;
  for (unsigned attempt = 1;; ++attempt) {
    http::Request req = build();
    req.connect_seconds = std::max<long>(1, std::min<long>(opts.connect_timeout.count(), opts.timeout.count()));
    req.stall_seconds = std::max<long>(1, opts.timeout.count());
    req.total_seconds = call.streaming ? 0 : std::max<long>(1, opts.timeout.count());
    req.headers.push_back("User-Agent: " + opts.user_agent);
    if (!call.scope.empty())
      if (std::string h = auth.header(call.scope); !h.empty()) req.headers.push_back(std::move(h));
    auto handle = pool.take();
    auto r = http::perform(*handle, req, tls, cancelled.get());
    bool last = attempt >= max || cancelled->load();
    if (!r) {
      if (!http::is_transient(r.error()) || last) {
        if (attempt == 1) return std::move(r).error();
        Error e = std::move(r).error();
        return Error(e.code(), e.message() + " (after " + std::to_string(attempt) + " attempts)");
      }
      pause(backoff_delay(opts.retry, attempt));
      continue;
    }
    if (r->status == 401 && !call.scope.empty() && !challenged) {
      challenged = true;
      BERTH_TRY(authenticate(call, *r));
      --attempt;  // answering the challenge is not a failed attempt
      continue;
    }
    if (is_retryable_status(r->status) && !last) {
      auto d = backoff_delay(opts.retry, attempt);
      if (const std::string* ra = r->header("retry-after"))
        if (auto wait = parse_retry_after(*ra)) d = std::min(std::max(d, *wait), opts.retry.cap);
      pause(d);
      continue;
    }
    r->attempts = attempt;
    return r;
  }
}

Error RegistrySession::status_error(const Call& call, const http::Response& r) const {
  std::string desc = describe_http_error(r.status, r.body);
  std::string where = call.what + " at " + registry;
  if (r.status == 401) {
    if (auth.credentials)
      return Error(EACCES, where + ": authentication failed for user \"" + auth.credentials->username + "\" (" +
                               desc + ")");
    return Error(EACCES, where + ": the registry requires authentication and no credentials were given (" + desc + ")");
  }
  if (r.status == 403) return Error(EACCES, where + ": access denied (" + desc + ")");
  if (r.status == 404) return Error(ENOENT, where + ": not found (" + desc + ")");
  if (is_retryable_status(r.status))
    return Error(EIO, where + ": registry answered " + desc + " after " + std::to_string(r.attempts) +
                          (r.attempts == 1 ? " attempt" : " attempts"));
  return Error(EPROTO, where + ": unexpected " + desc);
}

Status RegistrySession::authenticate(const Call& call, const http::Response& r) const {
  std::string where = call.what + " at " + registry;
  const std::string* h = r.header("www-authenticate");
  if (!h) return Error(EACCES, where + ": HTTP 401 without a WWW-Authenticate challenge");
  auto challenges = parse_www_authenticate(*h);
  if (!challenges) return std::move(challenges).error().wrap(where);
  for (const auto& ch : *challenges)
    if (ch.scheme == "bearer") return fetch_token(call, ch);
  for (const auto& ch : *challenges)
    if (ch.scheme == "basic") {
      if (!auth.credentials)
        return Error(EACCES, where + ": the registry requires authentication (Basic) and no credentials were given");
      auth.use_basic();
      return {};
    }
  return Error(EACCES, where + ": unsupported authentication scheme in \"" + h->substr(0, 80) + "\"");
}

Status RegistrySession::fetch_token(const Call& call, const AuthChallenge& ch) const {
  std::string where = call.what + " at " + registry;
  const std::string* realm = ch.param("realm");
  if (!realm || realm->empty()) return Error(EACCES, where + ": Bearer challenge without a realm");
  bool https = realm->rfind("https://", 0) == 0;
  if (!https && !(opts.plain_http && realm->rfind("http://", 0) == 0))
    return Error(EACCES, where + ": token realm \"" + *realm + "\" is not https");
  std::string scope = call.scope;
  if (const std::string* s = ch.param("scope"); s && !s->empty()) scope = *s;
  std::string u = *realm + (realm->find('?') == std::string::npos ? "?" : "&");
  if (const std::string* svc = ch.param("service")) u += "service=" + http::url_escape(*svc) + "&";
  u += "scope=" + http::url_escape(scope);
  Call token_call{"token for " + call.what + " from " + *realm, "", false, 0};
  auto r = send(token_call, [&] {
    http::Request req;
    req.url = u;
    req.body_limit = 1u << 20;
    if (auth.credentials)
      req.headers.push_back("Authorization: Basic " +
                            base64(auth.credentials->username + ":" + auth.credentials->password));
    return req;
  });
  if (!r) return std::move(r).error().wrap(where);
  if (r->status == 401 && auth.credentials)
    return Error(EACCES, where + ": authentication failed for user \"" + auth.credentials->username +
                             "\" at the token server " + *realm + " (" + describe_http_error(401, r->body) + ")");
  if (r->status != 200) return status_error(token_call, *r);
  auto doc = json::parse(r->body);
  if (!doc) return std::move(doc).error().wrap(where + ": token response");
  std::string token;
  for (const char* k : {"token", "access_token"})
    if (const json::Value* v = doc->find(k); v && v->is_string() && !v->as_string().empty()) token = v->as_string();
  if (token.empty()) return Error(EACCES, where + ": token response has no \"token\" or \"access_token\"");
  std::chrono::seconds ttl(60);
  if (const json::Value* e = doc->find("expires_in"); e && e->is_uint() && e->as_uint() > 60)
    ttl = std::chrono::seconds(std::min<uint64_t>(e->as_uint(), 24 * 3600));
  auth.store_token(call.scope, std::move(token), ttl);
  return {};
}

// ---- RegistryClient ---------------------------------------------------------

RegistryClient::RegistryClient(std::unique_ptr<RegistrySession> impl) : impl_(std::move(impl)) {}
RegistryClient::RegistryClient(RegistryClient&&) noexcept = default;
RegistryClient& RegistryClient::operator=(RegistryClient&&) noexcept = default;
RegistryClient::~RegistryClient() = default;

Result<RegistryClient> RegistryClient::create(std::string_view registry, RegistryOptions options) {
  if (registry.empty()) return Error::msg("registry client: empty registry name");
  auto impl = std::make_unique<RegistrySession>();
  impl->registry = std::string(registry);
  impl->base = (options.plain_http ? "http://" : "https://") + registry_endpoint(registry);
  if (!options.ca_file.empty()) {
    if (::access(options.ca_file.c_str(), R_OK) < 0) return Error::os("registry client: CA file " + options.ca_file);
    impl->tls.ca_file = options.ca_file;
  }
  impl->auth.credentials = options.credentials;
  if (options.cancel) impl->cancelled = options.cancel;
  if (options.parallel == 0) options.parallel = 1;
  impl->opts = std::move(options);
  return RegistryClient(std::move(impl));
}

const RegistryOptions& RegistryClient::options() const { return impl_->opts; }

void RegistryClient::cancel() const { *impl_->cancelled = true; }

bool RegistryClient::cancelled() const { return impl_->cancelled->load(); }

Result<FetchedManifest> RegistryClient::get_manifest(std::string_view repo, std::string_view ref) const {
  Call call{"manifest " + manifest_name(repo, ref), repo_scope(repo, false), false, 0};
  std::string u = impl_->url(repo, "manifests/" + std::string(ref));
  auto r = BERTH_TRY(impl_->send(call, [&] {
    http::Request req;
    req.url = u;
    req.headers.emplace_back(kManifestAccept);
    return req;
  }));
  if (r.status != 200) return impl_->status_error(call, r);
  FetchedManifest m;
  std::string ct = r.header("content-type") ? bare_type(*r.header("content-type")) : "";
  if (ct.find("distribution.manifest.v1") != std::string::npos)
    return Error(EPROTO, call.what + ": Docker schema 1 manifests (" + ct + ") are not supported");
  if (is_manifest_type(ct) || is_index_type(ct)) m.media_type = ct;
  m.digest = sha256_of(r.body);
  m.body = std::move(r.body);
  if (ref.rfind("sha256:", 0) == 0) {
    Digest want = BERTH_TRY_CTX(Digest::parse(ref, "digest"), call.what);
    if (!(want == m.digest))
      return Error::msg(call.what + ": content has digest " + m.digest.str() + " (rejected)");
  }
  if (const std::string* dcd = r.header("docker-content-digest"))
    if (auto said = Digest::parse(*dcd); said && !(*said == m.digest))
      return Error::msg(call.what + ": registry says digest " + said->str() + " but the content has " +
                        m.digest.str() + " (rejected)");
  return m;
}

Result<Descriptor> RegistryClient::head_manifest(std::string_view repo, std::string_view ref) const {
  Call call{"manifest " + manifest_name(repo, ref), repo_scope(repo, false), false, 0};
  std::string u = impl_->url(repo, "manifests/" + std::string(ref));
  auto r = BERTH_TRY(impl_->send(call, [&] {
    http::Request req;
    req.method = "HEAD";
    req.url = u;
    req.headers.emplace_back(kManifestAccept);
    return req;
  }));
  if (r.status != 200) return impl_->status_error(call, r);
  Descriptor d;
  if (const std::string* ct = r.header("content-type")) d.media_type = bare_type(*ct);
  const std::string* dcd = r.header("docker-content-digest");
  if (!dcd) return Error(EPROTO, call.what + ": HEAD answer has no Docker-Content-Digest");
  d.digest = BERTH_TRY_CTX(Digest::parse(*dcd, "Docker-Content-Digest"), call.what);
  if (const std::string* cl = r.header("content-length")) d.size = std::strtoull(cl->c_str(), nullptr, 10);
  return d;
}

Result<Digest> RegistryClient::put_manifest(std::string_view repo, std::string_view ref, std::string_view media_type,
                                            std::string_view body) const {
  Call call{"push manifest " + manifest_name(repo, ref), repo_scope(repo, true), false, 0};
  std::string u = impl_->url(repo, "manifests/" + std::string(ref));
  auto r = BERTH_TRY(impl_->send(call, [&] {
    http::Request req;
    req.method = "PUT";
    req.url = u;
    req.data = body;
    req.send_data = true;
    req.headers.push_back("Content-Type: " + std::string(media_type));
    return req;
  }));
  if (r.status != 201 && r.status != 200) return impl_->status_error(call, r);
  Digest own = sha256_of(body);
  if (const std::string* dcd = r.header("docker-content-digest"))
    if (auto said = Digest::parse(*dcd); said && !(*said == own))
      return Error(EPROTO, call.what + ": registry stored digest " + said->str() + ", expected " + own.str());
  return own;
}

}  // namespace berth::images
