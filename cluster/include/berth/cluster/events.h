// events.h — the cluster's event record: one key per event under
// <prefix>events/, named by time so a range lists them in order, bound to
// a lease so old events expire (about an hour) instead of growing etcd.
#pragma once

#include <atomic>
#include <chrono>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "berth/base/json.h"
#include "berth/cluster/etcd.h"
#include "berth/cluster/model.h"

namespace berth::cluster {

/// {"k": "v", ...} for event details.
json::Value fields(std::initializer_list<std::pair<const char*, std::string>> kv);

class EventLog {
public:
  /// `source` (a node's id), when given, ends each event's key, so the
  /// events of several writers never share a name.
  explicit EventLog(Keys keys, std::string source = {}) : keys_(std::move(keys)), source_(std::move(source)) {}
  /// Grants the lease events are bound to.
  void open(Etcd& etcd);
  /// Appends the put of one event to a transaction's operations, so an
  /// event is written with the change it describes. Thread-safe.
  void append_op(std::vector<Op>& ops, std::string_view kind, json::Value detail);
  /// Queues an event written by the next tick(). Not thread-safe.
  void add(std::string_view kind, json::Value detail);
  /// Writes queued events; renews the lease now and then.
  void tick(Etcd& etcd);

  static constexpr int64_t kTtl = 3600;

private:
  Op make(std::string_view kind, json::Value detail);
  Keys keys_;
  std::string source_;
  std::atomic<int64_t> lease_{0};
  std::atomic<uint64_t> seq_{0};
  std::chrono::steady_clock::time_point granted_;
  std::vector<Op> pending_;
};

}  // namespace berth::cluster
