// orchestrator.h — berth-orchestrator's core: leader election through an
// etcd lease and a create-if-absent transaction, then (as leader) a
// list-then-watch copy of the cluster and a reconcile loop: node health
// (suspect, grace, fencing, eviction rate and storm limits), environments
// to containers, and placements committed with transactions guarded by the
// leader key and each node's alloc revision.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "berth/base/error.h"
#include "berth/cluster/etcd.h"

namespace berth::orch {

// The orchestrator works in the cluster library's terms (model, etcd, state).
using namespace berth::cluster;

struct OrchestratorOptions {
  EtcdConfig etcd;
  std::string prefix = "/berth/";
  std::string id;                 // this replica's name (leader key value)
  int64_t leader_ttl = 5;         // seconds
  bool elect = true;              // false: act without election (tests of the txn guard only)
  long grace_ms = 30000;          // suspect -> containers rescheduled
  double evict_rate = 20;         // nodes fenced per second at most
  double storm_fraction = 0.55;   // stop evicting when more than this share of nodes is dark
  int commit_threads = 8;
  int batch = 40;                 // containers per placement transaction
  long tick_ms = 100;
  /// Told what the replica is doing: "waiting for etcd", "standby",
  /// "leader" (for systemd's STATUS=). Called from run()'s thread.
  std::function<void(const std::string&)> on_status;
};

struct OrchestratorStats {
  std::atomic<int64_t> placed{0}, moved{0}, removed{0}, txns{0}, conflicts{0}, fenced{0};
  /// Liveness for a watchdog: `beats` grows with every turn of the
  /// election and leader loops; `waiting` is set while etcd's health is
  /// polled (calls with deadlines: waiting there is not a hang).
  std::atomic<int64_t> beats{0};
  std::atomic<bool> waiting{false};
};

/// When a leader that cannot renew its lease stops acting, counted from
/// the moment its last successful renewal was sent: the lease lives at
/// least leader_ttl past that moment, and another replica may lead only
/// once it has expired. The margin covers a 1 % clock-rate difference
/// between this host and etcd's, the step-down check's period (100 ms, twice)
/// and one leader tick in flight (tick_ms).
long leader_step_down_ms(int64_t leader_ttl_s, long tick_ms);

class Orchestrator {
public:
  explicit Orchestrator(OrchestratorOptions opt);
  ~Orchestrator();
  /// Runs as standby or leader until `stop`; returns an error only for
  /// bad options. etcd being down is waited out with backoff.
  Status run(const std::atomic<bool>& stop);
  const OrchestratorStats& stats() const { return stats_; }

private:
  struct Impl;
  OrchestratorOptions opt_;
  OrchestratorStats stats_;
};

}  // namespace berth::orch
