// cluster.h — berthd as a cluster node (off unless --cluster is given): the
// node agent on threads of its own, converging through the node's Service.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/flags.h"
#include "berth/supervisor/layout.h"
#include "berth/supervisor/service.h"
#include "berth/supervisor/tls_client.h"

namespace berth::supervisor {

struct ClusterOptions {
  std::string etcd;        // --cluster: etcd client URLs, comma-separated
  std::string node_id;     // --node-id
  std::string labels;      // --labels k=v,...
  std::string capacity;    // --capacity cpus=N,memory=SIZE,disk=SIZE (the rest: the machine's)
  std::string prefix = "/berth/";  // --cluster-prefix
  std::string address;     // --node-address (default: the API socket)
  long lease_ttl = 15;     // --lease-ttl seconds
  long usage_s = 30;       // --usage-interval seconds
  long resync_s = 10;      // --resync-interval seconds
  long fence_after_s = 0;  // --fence-after seconds without a renewal (0: the lease TTL)
  long fence_stop_s = 10;  // --fence-stop-timeout seconds a fenced container gets to halt
  std::string etcd_cacert, etcd_cert, etcd_key;  // --etcd-cacert, --etcd-cert, --etcd-key
  std::string etcd_user;                         // --etcd-user NAME[:PASSWORD]
  /// berthd's own TLS files (--tls-cert, --tls-key, --tls-client-ca as the
  /// cluster's CA): how it reaches another node's API for a migration.
  TlsClientFiles peer_tls;
};

/// The cluster flags of berthd's command line. `--cluster-config FILE`
/// reads KEY="value" lines, one per flag (ETCD for --cluster, NODE_ID,
/// LABELS, CAPACITY, NODE_ADDRESS, CLUSTER_PREFIX, LEASE_TTL,
/// USAGE_INTERVAL, RESYNC_INTERVAL, FENCE_AFTER, FENCE_STOP_TIMEOUT,
/// ETCD_CACERT, ETCD_CERT, ETCD_KEY, ETCD_USER; # comments).
std::vector<flags::Flag> cluster_flags();
/// Sets `o` from the --cluster-config files, in order, then from the flags
/// of `a` (a flag overrides a file; an empty KEY="" in a file is unset). Errors name the file's line or the flag.
Status apply_cluster_flags(const flags::Args& a, ClusterOptions& o);

/// The node agent; its destructor stops it (the lease is left to expire:
/// berthd stopping is not the node leaving, its containers run on).
class ClusterNode {
public:
  virtual ~ClusterNode() = default;
  /// Starts the agent on threads of its own, converging through `svc`
  /// (once its registry is loaded); the spec's templates are the tags of
  /// the node's image store. It waits for etcd with backoff and never
  /// holds up the local API.
  virtual void start(Service& svc) = 0;
  /// The node the cluster container `id` is being migrated to from here,
  /// if it is (nullopt before the agent started). Thread-safe.
  virtual std::optional<std::string> handing_off_to(const std::string& id) const = 0;
};

/// Checks the options (node id, labels, capacity, intervals) before
/// anything is made and prepares the node's spec; null when --cluster
/// was not given.
Result<std::unique_ptr<ClusterNode>> make_cluster_node(const ClusterOptions& o, const Layout& layout,
                                                       const std::string& api_socket);

}  // namespace berth::supervisor
