// state.h — an in-memory copy of the cluster's keys, built from one range
// of the prefix and kept current by a watch (list-then-watch). Used by the
// orchestrator's reconciler and the CLI's read-only views.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "berth/cluster/etcd.h"
#include "berth/cluster/model.h"

namespace berth::cluster {

struct NodeInfo {
  std::optional<NodeSpec> spec;
  std::string spec_error;  // set when the node wrote a spec that does not parse
  bool alive = false;      // nodes/<id>/alive exists (bound to the node's lease)
  std::string admin;       // "cordoned" | "draining" | ""
  bool fenced = false;     // nodes/<id>/fence exists
  std::string usage;       // the node's last usage report (JSON)
  NodeStatus status;       // nodes/<id>/status: what it says of its containers
  int64_t alloc_revision = 0;
};

class ClusterState {
public:
  explicit ClusterState(Keys keys) : keys_(std::move(keys)) {}

  /// Applies one key (a PUT, or a DELETE when `deleted`). Changes older
  /// than what is already held for that key are ignored, so local
  /// updates after a commit and the watch's copy of them can arrive in
  /// any order.
  void apply(const KeyValue& kv, bool deleted);
  void apply(const WatchBatch& b);
  void clear();

  const Keys& keys() const { return keys_; }
  std::map<std::string, NodeInfo>& nodes() { return nodes_; }
  const std::map<std::string, NodeInfo>& nodes() const { return nodes_; }
  const std::map<std::string, Environment>& envs() const { return envs_; }
  const std::map<std::string, ContainerRec>& containers() const { return containers_; }
  const std::map<std::string, std::string>& env_errors() const { return env_errors_; }
  /// Requested moves: container id -> the node asked for.
  const std::map<std::string, std::string>& moves() const { return moves_; }

  /// What the node a container is placed on says of it (nullptr: no
  /// report yet, or the node is gone).
  const ContainerStatus* reported(const ContainerRec& c) const;

  /// The node's condition as users see it: ready, suspect (lease gone),
  /// fenced, cordoned, draining, or invalid (unparseable spec).
  std::string condition(const std::string& id) const;

private:
  Keys keys_;
  std::unordered_map<std::string, int64_t> key_rev_;
  std::map<std::string, NodeInfo> nodes_;
  std::map<std::string, Environment> envs_;
  std::map<std::string, std::string> env_errors_;
  std::map<std::string, ContainerRec> containers_;
  std::map<std::string, std::string> moves_;
};

/// Reads the whole prefix into `st`; returns the revision it was read at.
Result<int64_t> load_state(Etcd& etcd, ClusterState& st);

}  // namespace berth::cluster
