// registry.h — a client for OCI distribution registries (the /v2/ API):
// manifests and blobs, pulled and pushed over HTTPS with bearer-token or
// basic auth, retries with capped exponential backoff, and timeouts that
// turn a hanging registry into an error. Blobs stream into the Store,
// which verifies them; an interrupted blob resumes with a Range request.
//
// libcurl sits underneath and is linked into berth_images only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/images/descriptor.h"
#include "berth/images/store.h"

namespace berth::images {

// ---- pieces with no I/O (unit-tested) -------------------------------------

struct Credentials {
  std::string username;
  std::string password;
};

/// Parses "user:password" (the password may hold ':'). Errors name `field`
/// and never echo the password.
Result<Credentials> parse_credentials(std::string_view text, std::string_view field = "credentials");

/// Reads "user:password" from a file (one line; a trailing newline is
/// dropped). Errors name the path.
Result<Credentials> read_credentials_file(const std::string& path);

/// One challenge of a WWW-Authenticate header.
struct AuthChallenge {
  std::string scheme;  // lowercased: "bearer", "basic"
  std::vector<std::pair<std::string, std::string>> params;  // names lowercased
  std::string token68;

  /// A parameter's value, or nullptr.
  const std::string* param(std::string_view name) const;
};

/// Parses a WWW-Authenticate value (RFC 7235: challenges separated by
/// commas, auth-params with token or quoted-string values), e.g.
/// `Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull"`.
Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view header);

struct RetryPolicy {
  unsigned max_attempts = 5;  // tries in all, the first included
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds cap{8000};
};

/// The wait before retry number `retry` (1 = the first retry):
/// initial * 2^(retry-1), never more than cap.
std::chrono::milliseconds backoff_delay(const RetryPolicy& policy, unsigned retry);

/// A Retry-After value in seconds ("120"); HTTP dates and junk give nullopt.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value);

/// True for statuses worth retrying: 408, 429, 500, 502, 503, 504.
bool is_retryable_status(long status);

/// "HTTP 404 (MANIFEST_UNKNOWN: manifest unknown)" from a status and the
/// registry's JSON error body ({"errors":[{"code","message"}]}), if any.
std::string describe_http_error(long status, std::string_view body);

// ---- the client -----------------------------------------------------------

struct RegistryOptions {
  std::optional<Credentials> credentials;
  /// A PEM file of CA certificates to trust instead of the system's.
  std::string ca_file;
  /// Talk plain HTTP (a registry on localhost without TLS).
  bool plain_http = false;
  RetryPolicy retry;
  std::chrono::seconds connect_timeout{15};
  /// A request that moves no data for this long fails; manifest and token
  /// requests must also finish within it.
  std::chrono::seconds timeout{60};
  /// Layers fetched or pushed at once.
  unsigned parallel = 3;
  /// Blobs larger than this are pushed in chunks of this size (PATCH),
  /// smaller ones in one PUT. 0: always one PUT.
  uint64_t chunk_size = 32u << 20;
  std::string user_agent = "berth/0.1";
  /// A flag another thread sets to stop the client's transfers (and its
  /// retries) at once: a cancelled pull or push fails with ECANCELED.
  /// The client sets it too when one of its parallel transfers fails.
  std::shared_ptr<std::atomic<bool>> cancel;
};

/// Bytes moved so far and the total (0 when unknown).
using TransferProgress = std::function<void(uint64_t done, uint64_t total)>;

struct FetchedManifest {
  std::string media_type;  // the Content-Type, parameters dropped
  std::string body;
  Digest digest;  // SHA-256 of body (checked against Docker-Content-Digest)
};

class RegistrySession;  // the client's state, private to the library

/// A client for one registry. Its methods may be called from several
/// threads at once: each call takes a connection of its own from a pool.
class RegistryClient {
public:
  /// Prepares a client for `registry` (a Reference's registry: "host[:port]";
  /// docker.io is reached at registry-1.docker.io). No I/O happens here.
  static Result<RegistryClient> create(std::string_view registry, RegistryOptions options);

  RegistryClient(RegistryClient&&) noexcept;
  RegistryClient& operator=(RegistryClient&&) noexcept;
  ~RegistryClient();

  const RegistryOptions& options() const;

  /// GET /v2/<repo>/manifests/<ref> accepting OCI and Docker manifests,
  /// indexes and manifest lists. When `ref` is a digest the body must hash
  /// to it. 404 is an ENOENT error naming repo and ref.
  Result<FetchedManifest> get_manifest(std::string_view repo, std::string_view ref) const;

  /// HEAD of a manifest: its media type, digest and size; ENOENT when absent.
  Result<Descriptor> head_manifest(std::string_view repo, std::string_view ref) const;

  /// Streams blob `d` into the store (which verifies digest and size).
  /// An interrupted transfer resumes with Range from what arrived, in this
  /// call or, from the store's partial file, in a later one.
  Status fetch_blob(const Store& store, std::string_view repo, const Descriptor& d,
                    const TransferProgress& progress = {}) const;

  /// HEAD /v2/<repo>/blobs/<digest>.
  Result<bool> blob_exists(std::string_view repo, const Digest& d) const;

  /// Uploads blob `d` from the store: POST for a session, then one PUT
  /// ?digest= or PATCHes of chunk_size followed by the PUT.
  Status push_blob(const Store& store, std::string_view repo, const Descriptor& d,
                   const TransferProgress& progress = {}) const;

  /// PUT /v2/<repo>/manifests/<ref> with `media_type`; returns the digest
  /// the registry reports (or the body's).
  Result<Digest> put_manifest(std::string_view repo, std::string_view ref, std::string_view media_type,
                              std::string_view body) const;

  /// Asks the running transfers to stop (they fail with ECANCELED).
  void cancel() const;
  /// Whether cancel() was called or RegistryOptions::cancel was set.
  bool cancelled() const;

private:
  explicit RegistryClient(std::unique_ptr<RegistrySession> impl);
  std::unique_ptr<RegistrySession> impl_;
};

}  // namespace berth::images
