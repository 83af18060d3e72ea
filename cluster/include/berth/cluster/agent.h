// agent.h — the node side of the cluster protocol, for berthd to embed
// and for the simulated nodes: register under a lease kept alive, report
// usage, watch the node's assignments and converge to them through a
// ContainerDriver. A node whose lease expired rejoins with a new one and
// stops every container no longer assigned to it before it clears its
// fence (and so before the scheduler gives it new work). A node that
// cannot renew its lease fences itself: it stops its cluster containers
// before the orchestrator may place them elsewhere (FenceBudget).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/cluster/etcd.h"
#include "berth/cluster/events.h"
#include "berth/cluster/model.h"

namespace berth::cluster {

/// What the agent asks of the node's own lifecycle code (berthd's).
/// start, stop and list come from the agent's threads, one at a time per
/// node; usage and templates may come at the same time as them.
class ContainerDriver {
public:
  virtual ~ContainerDriver() = default;
  /// Creates and starts a container assigned here, or updates its
  /// resources if it exists. Idempotent.
  virtual Status start(const ContainerRec& c) = 0;
  /// Stops and removes a container no longer assigned here. Idempotent.
  virtual Status stop(const std::string& id) = 0;
  /// Stops (and keeps, disk and all) a container migrating to another
  /// node, which copies its disk from here; it is removed (stop) once its
  /// assignment goes. Idempotent. start() of a record whose `from` is set
  /// and that is not here yet copies the disk from that node.
  virtual Status hand_off(const std::string& id) {
    (void)id;
    return ok();
  }
  /// Stops a container because the node lost its lease (self-fencing):
  /// its disk and record stay, and start() boots it again if it is still
  /// assigned here once the node is back. Idempotent.
  virtual Status fence(const std::string& id) { return hand_off(id); }
  /// fence() of each, all at once where the driver can (the fence budget's
  /// stop time is that of one stop, not of the sum); names the failures.
  virtual Status fence_all(const std::vector<std::string>& ids) {
    std::string failed;
    for (const auto& id : ids)
      if (auto st = fence(id); !st) failed += (failed.empty() ? "" : "; ") + st.error().what();
    if (!failed.empty()) return Error::msg(failed);
    return ok();
  }
  /// The cluster's containers present on this node.
  virtual std::vector<std::string> list() = 0;
  /// The usage report stored at nodes/<id>/usage (a JSON object).
  virtual json::Value usage() { return json::Value::object(); }
  /// The templates the node can start now, when the driver knows them
  /// (nullopt: the spec's list stands). Read at each resync.
  virtual std::optional<std::vector<std::string>> templates() { return std::nullopt; }
  /// The networks containers can join on the node, likewise.
  virtual std::optional<std::vector<std::string>> networks() { return std::nullopt; }
};

/// A node's self-fencing timings, all counted on the node's clock from the
/// moment its last successful lease renewal was sent (etcd renews at or
/// after that moment, so the lease lives at least lease_ttl past it).
///
/// The orchestrator may place the node's containers elsewhere only after
/// it has seen the lease expire and then waited its grace. Clocks run at
/// rates that differ by at most `drift` (1 %: NTP slews at most 0.05 %),
/// so the node is safe when
///   (lease_ttl + grace) / (1 + drift) >= deadline / (1 - drift),
/// that is grace >= min_grace_ms(). The node publishes min_grace_ms() in
/// its spec and the orchestrator waits max(--grace, that) for it.
struct FenceBudget {
  long lease_ttl_ms = 15000;
  long after_ms = 15000;  // no renewal for this long: stop the containers
  long stop_ms = 11000;   // the longest the stops take (graceful timeout + kill)
  long check_ms = 100;    // how often the watchdog looks
  double drift = 0.01;
  /// Every cluster container is stopped by then.
  long deadline_ms() const { return after_ms + check_ms + stop_ms; }
  /// The least grace, after the lease is seen gone, that keeps the node's
  /// stops ahead of any re-placement (rounded up).
  long min_grace_ms() const;
};

struct AgentOptions {
  int64_t lease_ttl = 15;  // seconds
  long keepalive_ms = 0;   // 0: a third of the TTL
  long usage_ms = 30000;   // usage report period (0: never)
  /// A real node's periodic resync (0: off, as for simulated nodes): every
  /// resync_ms every assigned container is start()ed again (the driver
  /// boots a stopped one, applies changed resources, does nothing to one
  /// that runs as assigned), and the spec's templates are refreshed. With
  /// it, a join only registers and reads: the resync thread then stops
  /// stale copies, clears the fence and starts what is assigned, so the
  /// new lease is renewed on time however slow the node's stops are.
  long resync_ms = 0;
  /// Self-fencing (off unless `fence` is set, as for simulated nodes):
  /// when no renewal has succeeded for fence.after_ms, every cluster
  /// container here is stopped (driver fence(), disks kept) and none is
  /// started until a renewal or a rejoin succeeds; the resync after that
  /// destroys the copies placed elsewhere meanwhile and boots the rest.
  std::optional<FenceBudget> fence;
  /// The node's reports of its containers (running, failed with the
  /// driver's error, fenced, handing off) are written to nodes/<id>/status
  /// under the node's lease at most this often, when they changed (0:
  /// never). `berth-cluster env create --wait` and `status` read them.
  long status_ms = 500;
  /// A file (on a tmpfs that a reboot clears, such as berthd's run
  /// directory) where the agent keeps when its last successful renewal
  /// was sent, on the boot's monotonic clock; "": none. A restarted
  /// agent reads it, so a berthd restarted while cut off fences on its
  /// predecessor's deadline, not a full fence-after from its own start.
  std::string renewal_file;
};

class NodeAgent {
public:
  NodeAgent(Keys keys, NodeSpec spec, ContainerDriver& driver, AgentOptions opt = {});

  const std::string& id() const { return spec_.id; }
  bool joined() const { return lease_ != 0; }

  /// Registers (new lease, spec, alive), reads the node's assignments and
  /// fence at one revision, converges, then clears the fence (with
  /// resync_ms, the resync thread does those two, right away). Returns
  /// the revision read: watch events at or below it are already applied.
  Result<int64_t> join(Etcd& etcd);
  /// Renews the lease when due (rejoining when it expired) and reports
  /// usage when due. Containers keep running whatever etcd does.
  Status tick(Etcd& etcd);
  /// Applies watch events on this node's assignment keys.
  void on_events(const std::vector<const WatchEvent*>& evs);
  /// Converges again when a resync or a retry is due (a convergence that
  /// failed is retried with backoff, 1 s doubling to 30 s), clears a
  /// fence that a failed stop kept, and publishes the containers' reports
  /// when they changed. Called often; cheap when nothing is due.
  Status resync(Etcd& etcd);
  /// Revokes the lease (a clean leave: the node turns suspect at once).
  Status leave(Etcd& etcd);
  /// The self-fencing watchdog (no etcd call): stops every cluster
  /// container once fence.after_ms passed without a renewal. Called
  /// every fence.check_ms from a thread that never waits on etcd.
  void check_fence();
  /// True while the node is fenced by itself (no renewal since the fence).
  bool self_fenced() const { return self_fenced_.load(); }
  /// The node a container assigned here is being handed to (a migration
  /// away from this node under way), if it is.
  std::optional<std::string> handing_off_to(const std::string& id) const;
  /// Containers migrated here whose source still holds its copy (their
  /// completion transaction is due or failed and retried).
  size_t handoffs_pending() const;

private:
  enum class Mode { stale_only, missing, all };
  struct Outcome {
    bool stale_stopped = true;  // every container no longer assigned is gone
    bool complete = true;       // and every assigned one was started
  };
  /// Stops what is no longer assigned, then starts what is (Mode::missing:
  /// those the driver does not list; Mode::all: every one). Driver calls
  /// are serialised by drive_mu_; mu_ is held only to copy the assignments.
  Outcome converge(Mode mode);
  /// Sets the next resync: the period after a complete convergence, a
  /// growing backoff after a failed one.
  void schedule(bool complete);
  Status clear_fence(Etcd& etcd);
  /// Records a successful renewal sent at `sent` (mu_ held), and in
  /// renewal_file.
  void renewed(std::chrono::steady_clock::time_point sent);
  /// Ends a self-fence (after a renewal or a join) and makes a resync due.
  void lift_self_fence(const char* why);
  /// Ends the migrations whose container now runs here: one transaction
  /// per container clears `from` in its record and this node's assignment
  /// and deletes the source's assignment (so the source removes its
  /// copy), guarded by the record's revision (a record changed meanwhile
  /// is left to the orchestrator). Failures are retried at the next call.
  void complete_handoffs(Etcd& etcd);
  /// Puts the spec again when the driver's templates changed.
  void refresh_templates(Etcd& etcd);
  /// Records what became of a container (state "": it is gone from here).
  void report(const std::string& id, const std::string& state, const std::string& error = {});
  /// Writes the reports when they changed and status_ms has passed.
  void publish_status(Etcd& etcd);
  Keys keys_;
  NodeSpec spec_;
  ContainerDriver& driver_;
  AgentOptions opt_;
  std::mutex drive_mu_;    // held across driver calls (start, stop, list)
  mutable std::mutex mu_;  // the fields below; never held across a driver call
  std::map<std::string, ContainerRec> desired_;
  std::map<std::string, int64_t> key_rev_;  // assignment key -> last revision applied
  std::set<std::string> handoffs_;          // migrated here and started: completion due
  EventLog events_;
  bool events_open_ = false;
  int64_t lease_ = 0;
  int64_t joined_rev_ = 0;
  bool spec_dirty_ = false;    // spec_ changed since it was last put
  NodeStatus status_;          // the reports of the containers here
  bool status_dirty_ = false;  // status_ changed (or the lease did) since it was last put
  std::chrono::steady_clock::time_point next_status_;
  bool fence_pending_ = false;  // fenced, and a stale copy still to stop
  long backoff_ms_ = 1000;
  /// Set by check_fence, cleared by a renewal or a join; no start while set.
  std::atomic<bool> self_fenced_{false};
  bool fence_retry_ = false;  // a fence stop failed: check_fence tries again
  std::chrono::steady_clock::time_point next_keepalive_, next_usage_;
  /// When the last renewal that succeeded (or the join's grant) was sent;
  /// before the first join, when the agent was made. Guarded by mu_.
  std::chrono::steady_clock::time_point last_renewed_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point next_resync_ = std::chrono::steady_clock::time_point::max();
};

/// Runs agents: `threads` threads share the keepalives and usage reports,
/// one watch covers the assignments of all of them, and one more thread
/// runs the resyncs (so a slow driver never delays a keepalive).
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

}  // namespace berth::cluster
