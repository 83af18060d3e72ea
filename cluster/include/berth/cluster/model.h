// model.h — the cluster's data model in etcd: the key layout under one
// prefix, and the JSON records stored there (nodes, environments,
// containers). The layout is described in docs/architecture.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::cluster {

struct Resources {
  int64_t cpu_milli = 0;
  int64_t memory_mb = 0;
  int64_t disk_gb = 0;

  Resources& operator+=(const Resources& o);
  Resources& operator-=(const Resources& o);
  /// True when every dimension of `r` fits in this one.
  bool covers(const Resources& r) const;
  bool operator==(const Resources&) const = default;
  std::string str() const;  // "2 cpus, 512 MiB, 10 GiB"
};

/// What a node declares when it joins.
struct NodeSpec {
  std::string id;
  std::map<std::string, std::string> labels;  // region, group, ...
  Resources capacity;
  std::vector<std::string> templates;  // OS templates the node can start
  std::string address;                 // the supervisor's API address
  std::vector<std::string> networks;   // networks its containers can join
  /// The least grace the orchestrator must give this node after its lease
  /// is gone, so that its self-fence ends first (FenceBudget; 0: none).
  int64_t fence_grace_ms = 0;
};

/// The placement rules of a role.
struct Placement {
  bool anti_affinity = false;                 // replicas on different nodes
  std::map<std::string, std::string> labels;  // required node labels
};

struct Role {
  std::string name;
  std::string tmpl;
  int64_t count = 0;
  Resources resources;
  std::string network;
  Placement placement;
};

enum class Strategy { spread, binpack };

struct Environment {
  std::string name;
  Strategy strategy = Strategy::spread;
  std::vector<Role> roles;
};

/// One container's desired placement (containers/<id>, and the node's
/// copy at assign/<node>/<id>).
struct ContainerRec {
  std::string id;  // <env>.<role>.<index>
  std::string env, role, tmpl, network;
  Resources resources;
  std::string node;
  /// A cold migration in progress: the node that still holds the
  /// container's disk (stopped, its assignment kept with `node` naming the
  /// destination) and that node's supervisor API address. The destination
  /// copies the disk from there, starts the container, then clears these
  /// and the source's assignment in one transaction. Empty otherwise.
  std::string from, from_address;
  int64_t mod_revision = 0;  // of containers/<id>, when read from etcd
};

/// What a node reports of one cluster container it holds (the last
/// outcome of its start, stop or fence). The node writes all of them as
/// one key, nodes/<id>/status, bound to its lease: a node gone takes its
/// reports with it, and a container with no report has not been started.
struct ContainerStatus {
  std::string state;  // running | failed | fenced | handing-off
  std::string error;  // the node's words, when failed
  std::string since;  // RFC 3339 time of the last change of state
  bool operator==(const ContainerStatus&) const = default;
};
using NodeStatus = std::map<std::string, ContainerStatus>;  // container id -> report

/// The etcd keys of one cluster, all below `prefix` (ends with '/').
class Keys {
public:
  explicit Keys(std::string prefix = "/berth/");
  const std::string& prefix() const { return p_; }

  std::string nodes() const { return p_ + "nodes/"; }
  std::string node(std::string_view id) const { return nodes() + std::string(id) + "/"; }
  std::string node_spec(std::string_view id) const { return node(id) + "spec"; }
  std::string node_alive(std::string_view id) const { return node(id) + "alive"; }
  std::string node_usage(std::string_view id) const { return node(id) + "usage"; }
  std::string node_alloc(std::string_view id) const { return node(id) + "alloc"; }
  std::string node_admin(std::string_view id) const { return node(id) + "admin"; }
  std::string node_fence(std::string_view id) const { return node(id) + "fence"; }
  std::string node_status(std::string_view id) const { return node(id) + "status"; }
  std::string envs() const { return p_ + "envs/"; }
  std::string env(std::string_view name) const { return envs() + std::string(name); }
  std::string containers() const { return p_ + "containers/"; }
  std::string container(std::string_view id) const { return containers() + std::string(id); }
  std::string assigns() const { return p_ + "assign/"; }
  std::string assigns(std::string_view node) const { return assigns() + std::string(node) + "/"; }
  std::string assign(std::string_view node, std::string_view id) const { return assigns(node) + std::string(id); }
  /// An operator's request to move a container to a node (its value).
  std::string moves() const { return p_ + "moves/"; }
  std::string move(std::string_view id) const { return moves() + std::string(id); }
  std::string leader() const { return p_ + "leader"; }
  std::string events() const { return p_ + "events/"; }

private:
  std::string p_;
};

/// Names of nodes, environments and roles: [a-z0-9][a-z0-9_-]{0,62}.
bool valid_name(std::string_view s);

json::Value to_json(const Resources& r);
Result<Resources> resources_from(const json::Value& v, std::string_view where);
json::Value to_json(const NodeSpec& n);
Result<NodeSpec> node_spec_from(std::string_view text);
json::Value to_json(const ContainerRec& c);
Result<ContainerRec> container_from(std::string_view text);
json::Value to_json(const NodeStatus& s);
/// Parses nodes/<id>/status; unknown keys are kept for newer agents.
Result<NodeStatus> node_status_from(std::string_view text);
json::Value to_json(const Environment& e);
/// Parses an environment file strictly: unknown keys, wrong types, bad
/// names and impossible resources are refused, naming the field.
Result<Environment> environment_from(std::string_view text);

const char* strategy_name(Strategy s);

}  // namespace berth::cluster
