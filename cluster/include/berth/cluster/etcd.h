// etcd.h — an etcd v3 client over the JSON gateway (`POST /v3/...`):
// key/value calls, leases, transactions and streaming watches. Keys and
// values are raw bytes here; the codec base64-encodes them on the wire.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "berth/base/error.h"

namespace berth::cluster {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

struct RangeResult {
  int64_t revision = 0;  // the store's revision when the range was read
  std::vector<KeyValue> kvs;
  int64_t count = 0;
};

/// One comparison of a transaction: `target(key) result number|value`.
struct Compare {
  enum class Target { version, create, mod, value };
  enum class Result { equal, greater, less, not_equal };
  std::string key;
  Target target = Target::mod;
  Result result = Result::equal;
  int64_t number = 0;
  std::string value;

  static Compare mod_revision(std::string key, int64_t rev) {
    return {std::move(key), Target::mod, Result::equal, rev, {}};
  }
  static Compare create_revision(std::string key, int64_t rev) {
    return {std::move(key), Target::create, Result::equal, rev, {}};
  }
  /// True when the key does not exist.
  static Compare absent(std::string key) { return create_revision(std::move(key), 0); }
  /// True when the key exists.
  static Compare present(std::string key) { return {std::move(key), Target::create, Result::greater, 0, {}}; }
};

/// One operation of a transaction.
struct Op {
  enum class Kind { put, del, range };
  Kind kind = Kind::put;
  std::string key;
  std::string value;      // put
  std::string range_end;  // del/range; empty = the key alone
  int64_t lease = 0;      // put

  static Op put(std::string k, std::string v, int64_t lease = 0) {
    return {Kind::put, std::move(k), std::move(v), {}, lease};
  }
  static Op del(std::string k, std::string end = {}) { return {Kind::del, std::move(k), {}, std::move(end), 0}; }
  static Op get(std::string k, std::string end = {}) { return {Kind::range, std::move(k), {}, std::move(end), 0}; }
};

struct TxnResult {
  bool succeeded = false;
  int64_t revision = 0;
  std::vector<RangeResult> ranges;  // one per range op of the branch taken, in order
};

struct Lease {
  int64_t id = 0;
  int64_t ttl = 0;
};

struct WatchEvent {
  enum class Type { put, del };
  Type type = Type::put;
  KeyValue kv;
};

/// One message of a watch stream.
struct WatchBatch {
  int64_t revision = 0;
  bool created = false;
  bool canceled = false;
  int64_t compact_revision = 0;  // set when canceled because history was compacted
  std::string cancel_reason;     // etcd's words when canceled otherwise ("etcdserver: permission denied")
  std::vector<WatchEvent> events;
};

/// The end of a prefix range: the prefix with its last byte incremented.
std::string prefix_end(std::string_view prefix);

/// Request bodies and response parsers of the gateway (pure; unit-tested).
namespace codec {
std::string base64_encode(std::string_view in);
Result<std::string> base64_decode(std::string_view in);

std::string range_request(std::string_view key, std::string_view end, int64_t limit = 0, bool keys_only = false);
std::string put_request(std::string_view key, std::string_view value, int64_t lease = 0);
std::string delete_request(std::string_view key, std::string_view end);
std::string txn_request(const std::vector<Compare>& cmp, const std::vector<Op>& success,
                        const std::vector<Op>& failure);
std::string lease_grant_request(int64_t ttl);
std::string lease_id_request(int64_t id);
std::string watch_request(std::string_view key, std::string_view end, int64_t start_revision);
std::string authenticate_request(std::string_view name, std::string_view password);
/// The token of an /v3/auth/authenticate answer.
Result<std::string> parse_token(std::string_view body);
/// True when an error answer (or a watch stream's error line) says the
/// request's token must be replaced: unknown or expired, missing, or older
/// than the auth store.
bool token_refused(std::string_view body);

/// A gateway error body {"error","message","code"} or a non-JSON one.
Error error_from(long http_status, std::string_view body);
Result<RangeResult> parse_range(std::string_view body);
/// The header revision of a put/delete answer.
Result<int64_t> parse_revision(std::string_view body);
Result<TxnResult> parse_txn(std::string_view body);
Result<Lease> parse_lease_grant(std::string_view body);
/// The TTL left after a renewal; 0 means the lease is gone.
Result<int64_t> parse_keepalive(std::string_view body);
Result<WatchBatch> parse_watch(std::string_view line);
}  // namespace codec

/// How to reach etcd besides its URLs, under the flags etcdctl names:
/// TLS (--etcd-cacert, --etcd-cert, --etcd-key) and an etcd user
/// (--etcd-user NAME[:PASSWORD]).
struct EtcdSecurityOptions {
  std::string cacert, cert, key;  // PEM files; cert and key together, both need cacert
  std::string user;               // NAME[:PASSWORD]; without one, $BERTH_ETCD_PASSWORD
};

/// The checked TLS files and user of a process, and the token its user was
/// last given, shared by every client and watcher of that process.
class EtcdCredentials;

/// Checks `o` before anything starts: each file is read and parsed (the
/// key must match the certificate, the CA be one), the user has a name and
/// a password. Errors name the flag and file. Null when `o` asks
/// for nothing.
Result<std::shared_ptr<EtcdCredentials>> etcd_credentials(const EtcdSecurityOptions& o);

/// Connection settings shared by clients and watchers.
struct EtcdConfig {
  std::vector<std::string> endpoints;  // "http://127.0.0.1:2379"
  /// The deadline of one request to one member: a member that does not
  /// answer by then (hung, partitioned from its quorum, its packets
  /// dropped) is marked bad and a retry-safe call goes on to the next.
  long timeout_ms = 5000;
  long connect_timeout_ms = 1000;  // TCP connect to one member
  /// How long a call keeps retrying while no endpoint answers (0: one try
  /// per endpoint). Only failures before the request was sent are retried.
  long retry_ms = 0;
  /// TLS and the etcd user, when given (etcd_credentials).
  std::shared_ptr<EtcdCredentials> credentials;
};

/// The endpoints of `list` ("a:2379,https://b:2379") with `credentials`:
/// a URL without a scheme gets https:// when a CA is given, http://
/// otherwise; an http:// URL with --etcd-cacert, or a scheme other than
/// http(s), is refused naming `flag`.
Result<std::vector<std::string>> etcd_endpoints(std::string_view list, const EtcdCredentials* credentials,
                                                const std::string& flag);

/// The order in which a client tries the members: the one that answered
/// last first, then the others in turn, those that failed within the last
/// `cooloff_ms` after every healthy one (still tried: they may be all
/// there is). Thread-safe; the clients of one process share one per
/// endpoint list (shared_for), so a new client starts where the last
/// good answer came from, not at the first endpoint.
class EndpointSelector {
public:
  using Clock = std::chrono::steady_clock;
  explicit EndpointSelector(size_t n, long cooloff_ms = 5000);
  /// Every endpoint index once, best first.
  std::vector<size_t> order(Clock::time_point now) const;
  /// `i` answered: it is tried first from now on.
  void good(size_t i);
  /// `i` failed (timeout, refused, no leader) at `now`.
  void bad(size_t i, Clock::time_point now);
  size_t preferred() const;
  /// The selector shared by every client of this endpoint list.
  static std::shared_ptr<EndpointSelector> shared_for(const std::vector<std::string>& endpoints);

private:
  mutable std::mutex mu_;
  size_t preferred_ = 0;
  long cooloff_ms_;
  std::vector<Clock::time_point> failed_at_;  // epoch: never failed
};

/// True when a request on `path` may be sent again to another member after
/// it may have reached the first: reads, lease calls, maintenance. Writes
/// and transactions are not (a hung member may still apply it later).
bool retry_safe(std::string_view path);

/// Splits "http://a:1,http://b:2" into endpoints; one without a scheme
/// gets `scheme`.
std::vector<std::string> split_endpoints(std::string_view list, std::string_view scheme = "http://");

/// A blocking client. Not thread-safe: give each thread its own.
/// With a user, each request carries the user's token (from
/// /v3/auth/authenticate), and a token etcd no longer knows is replaced
/// once and the request sent again.
/// Errors: ECONNREFUSED/ETIMEDOUT/ECONNRESET when etcd is unreachable,
/// EACCES when a member refuses the TLS handshake, its certificate is not
/// trusted, or the user is refused (naming the flag to look at),
/// EPROTO for an answer that is not the gateway's JSON, and the gRPC code
/// mapped to an errno for etcd's own refusals (ENOENT for NOT_FOUND...).
class Etcd {
public:
  explicit Etcd(EtcdConfig cfg);
  ~Etcd();
  Etcd(const Etcd&) = delete;
  Etcd& operator=(const Etcd&) = delete;

  const EtcdConfig& config() const { return cfg_; }

  Result<RangeResult> get(std::string_view key);
  Result<RangeResult> range(std::string_view key, std::string_view end, int64_t limit = 0, bool keys_only = false);
  Result<RangeResult> get_prefix(std::string_view prefix) { return range(prefix, prefix_end(prefix)); }
  /// Returns the new store revision.
  Result<int64_t> put(std::string_view key, std::string_view value, int64_t lease = 0);
  Result<int64_t> del(std::string_view key, std::string_view end = {});
  Result<TxnResult> txn(const std::vector<Compare>& cmp, const std::vector<Op>& success,
                        const std::vector<Op>& failure = {});
  Result<Lease> lease_grant(int64_t ttl);
  /// One renewal; returns the TTL left (0: the lease expired).
  Result<int64_t> lease_keepalive(int64_t id);
  Status lease_revoke(int64_t id);
  /// GET /health on each endpoint until one says healthy, with backoff
  /// (200 ms doubling to 5 s), logging each failure; gives up after
  /// `give_up_ms` (0: never) or when `stop` becomes true. A refusal
  /// (EACCES: TLS, or the user's password once a member is healthy) is
  /// returned at once: waiting does not mend it.
  Status wait_ready(long give_up_ms, const std::atomic<bool>* stop = nullptr);

  /// Raw POST to the gateway (path like "/v3/kv/put"); the body on 200.
  Result<std::string> post(std::string_view path, std::string_view body);

private:
  /// post(), going on to the next member after a request that may have
  /// reached a hung one only when `any_member`.
  Result<std::string> post_to_any(std::string_view path, std::string_view body, bool any_member);
  struct Impl;
  EtcdConfig cfg_;
  std::unique_ptr<Impl> impl_;
};

/// A watch on [key, end) that reconnects (rotating endpoints, with backoff)
/// and resumes from the last revision it delivered + 1. When etcd has
/// compacted that revision away, `on_batch` gets a batch with `canceled`
/// and `compact_revision` set: the owner must re-list and call restart().
class Watcher {
public:
  using Callback = std::function<void(const WatchBatch&)>;
  Watcher(EtcdConfig cfg, std::string key, std::string end, int64_t start_revision, Callback on_batch);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  void stop();
  /// The last revision delivered.
  int64_t revision() const { return next_rev_.load() - 1; }
  /// Reconnects from a new start revision (after a re-list).
  void restart(int64_t start_revision);

private:
  struct Probe;
  void run();
  /// While a stream is quiet for 2 s, asks its member a linearizable read
  /// (which needs the member's quorum) every 2 s; no answer within the
  /// request deadline ends the stream, and run() moves to the next member.
  void watch_member();
  EtcdConfig cfg_;
  std::string key_, end_;
  Callback cb_;
  std::atomic<int64_t> next_rev_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> reconnect_{false};
  std::unique_ptr<Probe> probe_;
  std::thread thread_, probe_thread_;
};

/// Sleeps up to `ms`, waking early when `stop` is set.
void sleep_unless(long ms, const std::atomic<bool>* stop);

}  // namespace berth::cluster
