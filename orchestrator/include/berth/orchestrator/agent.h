// agent.h — the node side of the cluster protocol, for berthd to embed
// and for the simulated nodes: register under a lease kept alive, report
// usage, watch the node's assignments and converge to them through a
// ContainerDriver. A node whose lease expired rejoins with a new one and
// stops every container no longer assigned to it before it clears its
// fence (and so before the scheduler gives it new work).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/orchestrator/etcd.h"
#include "berth/orchestrator/model.h"

namespace berth::orch {

/// What the agent asks of the node's own lifecycle code (berthd's).
/// Calls come from the agent's threads, one at a time per node.
class ContainerDriver {
public:
  virtual ~ContainerDriver() = default;
  /// Creates and starts a container assigned here, or updates its
  /// resources if it exists. Idempotent.
  virtual Status start(const ContainerRec& c) = 0;
  /// Stops and removes a container no longer assigned here. Idempotent.
  virtual Status stop(const std::string& id) = 0;
  /// The cluster's containers present on this node.
  virtual std::vector<std::string> list() = 0;
  /// The usage report stored at nodes/<id>/usage (a JSON object).
  virtual json::Value usage() { return json::Value::object(); }
};

struct AgentOptions {
  int64_t lease_ttl = 15;   // seconds
  long keepalive_ms = 0;    // 0: a third of the TTL
  long usage_ms = 30000;    // usage report period (0: never)
};

class NodeAgent {
public:
  NodeAgent(Keys keys, NodeSpec spec, ContainerDriver& driver, AgentOptions opt = {});

  const std::string& id() const { return spec_.id; }
  bool joined() const { return lease_ != 0; }

  /// Registers (new lease, spec, alive), reads the node's assignments and
  /// fence at one revision, converges, then clears the fence. Returns the
  /// revision read: watch events at or below it are already applied.
  Result<int64_t> join(Etcd& etcd);
  /// Renews the lease when due (rejoining when it expired) and reports
  /// usage when due. Containers keep running whatever etcd does.
  Status tick(Etcd& etcd);
  /// Applies watch events on this node's assignment keys.
  void on_events(const std::vector<const WatchEvent*>& evs);
  /// Revokes the lease (a clean leave: the node turns suspect at once).
  Status leave(Etcd& etcd);

private:
  void converge();
  Keys keys_;
  NodeSpec spec_;
  ContainerDriver& driver_;
  AgentOptions opt_;
  std::mutex mu_;
  std::map<std::string, ContainerRec> desired_;
  std::map<std::string, int64_t> key_rev_;  // assignment key -> last revision applied
  int64_t lease_ = 0;
  int64_t joined_rev_ = 0;
  std::chrono::steady_clock::time_point next_keepalive_, next_usage_, last_renewed_;
};

/// Runs agents: `threads` threads share the keepalives and usage reports,
/// one watch covers the assignments of all of them.
class AgentHost {
public:
  AgentHost(EtcdConfig cfg, Keys keys, std::vector<NodeAgent*> agents, int threads = 1);
  /// Joins every agent (retrying with backoff while etcd is down), then
  /// serves until `stop`; then revokes the leases when `leave_on_stop`.
  Status run(const std::atomic<bool>& stop, bool leave_on_stop = true);

private:
  EtcdConfig cfg_;
  Keys keys_;
  std::vector<NodeAgent*> agents_;
  int threads_;
};

}  // namespace berth::orch
