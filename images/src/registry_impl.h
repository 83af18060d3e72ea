// registry_impl.h — RegistrySession, the client's shared state
// (connection pool, tokens) and its one request loop with auth and
// retries, used by registry.cpp (manifests) and registry_blobs.cpp (blobs).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "berth/images/registry.h"
#include "http.h"

namespace berth::images {

/// What one request is for: names it in errors, says which token scope it
/// needs and how patient to be.
struct Call {
  std::string what;   // "manifest test/busybox:1.36", "blob sha256:ab12..."
  std::string scope;  // "repository:test/busybox:pull"; empty: no auth
  bool streaming = false;  // a blob transfer: no total time limit
  unsigned attempts = 0;   // 0: the retry policy's max_attempts
};

/// Tokens and the auth scheme a registry asked for, shared by all calls.
class AuthState {
public:
  /// The Authorization header for `scope`, or "" when none is known yet.
  std::string header(const std::string& scope) const;
  void use_basic();
  void store_token(const std::string& scope, std::string token, std::chrono::seconds ttl);
  bool basic() const;

  std::optional<Credentials> credentials;

private:
  mutable std::mutex mu_;
  bool basic_ = false;
  struct Token {
    std::string value;
    std::chrono::steady_clock::time_point expires;
  };
  std::map<std::string, Token> tokens_;
};

/// Behind RegistryClient: what every call to one registry shares.
class RegistrySession {
public:
  std::string registry;  // as written in references ("127.0.0.1:5000")
  std::string base;      // "https://127.0.0.1:5000"
  RegistryOptions opts;
  http::Tls tls;
  mutable http::Pool pool;
  mutable AuthState auth;
  // Stops every transfer: set by cancel(), or by the owner of
  // RegistryOptions::cancel (an operation cancelled from outside).
  std::shared_ptr<std::atomic<bool>> cancelled = std::make_shared<std::atomic<bool>>(false);

  /// Sends the request `build` makes (called again for every attempt),
  /// answering one 401 with the registry's challenge and retrying
  /// transport errors and 408/429/5xx with backoff. Returns the last
  /// response, whatever its status, or the transport error.
  Result<http::Response> send(const Call& call, const std::function<http::Request()>& build) const;

  /// The error for a response with an unexpected status: 401/403 EACCES,
  /// 404 ENOENT, others EPROTO, each naming the call.
  Error status_error(const Call& call, const http::Response& r) const;

  /// "https://host/v2/<repo>/<rest>".
  std::string url(std::string_view repo, std::string_view rest) const;

  /// Waits `d`, waking early when cancelled.
  void pause(std::chrono::milliseconds d) const;

private:
  Status authenticate(const Call& call, const http::Response& r) const;
  Status fetch_token(const Call& call, const AuthChallenge& ch) const;
};

/// "repository:<repo>:pull" or "...:pull,push".
std::string repo_scope(std::string_view repo, bool push);

}  // namespace berth::images
