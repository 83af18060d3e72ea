// cluster_driver.h — the node agent's ContainerDriver on berthd's own
// Service: a cluster container (<env>.<role>.<i>) is a system container
// from a template whose record carries CLUSTER=<id>; only those are the
// agent's to create, start, resize and destroy.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/cluster/agent.h"
#include "berth/supervisor/peer_client.h"
#include "berth/supervisor/service.h"

namespace berth::supervisor {

/// The local container name of cluster container `id`: the id with '.'
/// and '_' turned into '-'; `hashed` (or an id too long for a name) adds
/// an 8-digit hash of the id, for when the plain name is taken.
std::string cluster_local_name(const std::string& id, bool hashed);

/// The create request of a cluster container: its template, and its
/// resources as limits (cpu_milli -> CPULIMIT %, memory_mb -> RAM,
/// disk_gb -> DISK; a zero leaves berthd's default).
Result<CreateRequest> cluster_create_request(const cluster::ContainerRec& c, const std::string& name);

/// The changes (set request) that bring the container of record `have`
/// to the resources of `want`; empty when none.
Result<SetRequest> cluster_changes(const Record& have, const cluster::ContainerRec& want);

struct ClusterDriverOptions {
  int stop_timeout = 10;  // seconds a container removed from the node gets to halt
  int fence_stop_timeout = 10;  // seconds a container gets to halt when the node fences itself
  /// How this node reaches a migrating container's source node (its own
  /// certificate, key and the cluster's CA for mutual TLS).
  PeerOptions peer;
  /// Where a copied disk waits to be applied (berthd's state directory).
  std::string tmp_dir = "/var/lib/berth";
};

class ClusterDriver final : public cluster::ContainerDriver {
public:
  ClusterDriver(Service& svc, ClusterDriverOptions o = {}) : svc_(svc), o_(std::move(o)) {}

  /// Creates (from the template) and starts a container assigned here; a
  /// present one gets its changed resources (live where berthd can) and
  /// is started when stopped.
  Status start(const cluster::ContainerRec& c) override;
  /// Stops (gracefully, then by force) and destroys the container.
  Status stop(const std::string& id) override;
  /// Stops the container; its disk stays for the destination to copy.
  Status hand_off(const std::string& id) override;
  /// Stops the container (fence_stop_timeout, then by force); it stays.
  Status fence(const std::string& id) override;
  /// Stops them all at once, one thread each.
  Status fence_all(const std::vector<std::string>& ids) override;
  /// The cluster containers present on the node, in any state.
  std::vector<std::string> list() override;
  /// {"containers","running","used":{cpus,memory_mb,disk_gb} (assigned
  /// limits), "memory_bytes","cpu_seconds" (measured, running ones)}.
  json::Value usage() override;
  /// The tags of the node's image store.
  std::optional<std::vector<std::string>> templates() override;
  /// The node's networks (berth network ls): a role's network must be one.
  std::optional<std::vector<std::string>> networks() override;

private:
  /// Makes the container here from `req` and starts it; with `disk` (a
  /// copied export and its layers) the disk gets its contents first. On
  /// a failed create or copy nothing is left here.
  Status create_here(const cluster::ContainerRec& c, CreateRequest req, int disk, const std::string& image,
                     const std::vector<std::string>& layers);
  /// A migrating container: its disk copied from the source node (which
  /// stops it and keeps it until the agent records the move), then made
  /// and started here. A source that has no copy of it any more: made
  /// afresh from the template.
  Status migrate_in(const cluster::ContainerRec& c, CreateRequest req);
  /// Stops the local container of cluster id `id` if it runs, giving it
  /// `timeout` seconds; `what` names the verb in errors.
  Status halt(const std::string& id, int timeout, const char* what);
  /// The local container of cluster id `id`, if any.
  std::optional<ContainerStatus> find(const std::string& id);
  Service& svc_;
  ClusterDriverOptions o_;
};

}  // namespace berth::supervisor
