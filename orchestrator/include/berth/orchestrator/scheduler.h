// scheduler.h — placement as pure code: filter the nodes (state, labels,
// template, capacity, anti-affinity), then score the feasible ones
// (spread: least allocated; binpack: most allocated). No I/O: the caller
// commits the decisions to etcd.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "berth/cluster/model.h"
#include "berth/cluster/state.h"

namespace berth::orch {

// The orchestrator works in the cluster library's terms (model, etcd, state).
using namespace berth::cluster;

/// What the scheduler knows of one node.
struct NodeView {
  NodeSpec spec;
  bool schedulable = true;  // alive, ready, not cordoned/draining/fenced
  std::string state = "ready";
  Resources used;
  int64_t containers = 0;
  std::unordered_map<std::string, int> groups;  // "<env>.<role>" -> replicas on this node
  int64_t alloc_revision = 0;                   // mod_revision of nodes/<id>/alloc
};

/// One container to place.
struct Request {
  std::string container;
  std::string group;  // "<env>.<role>"
  std::string tmpl;
  Resources resources;
  Placement placement;
  std::string prefer;  // its current node, kept when still feasible
  std::string network;  // a network the node must have ("" none)
  std::string require;  // the only node it may go to (an operator's move)
};

struct Decision {
  std::string node;    // empty: not placeable
  std::string reason;  // why not, when node is empty
};

/// Why `n` cannot take `r`, or nullopt when it can.
std::optional<std::string> infeasible(const NodeView& n, const Request& r);

/// Higher is better.
int64_t score(const NodeView& n, const Request& r, Strategy s);

/// Picks a node for one request (ties: fewer containers, then id).
Decision pick(const std::vector<NodeView>& nodes, const Request& r, Strategy s);

/// Places requests in order, updating `nodes` as it goes so later requests
/// see earlier ones.
std::vector<Decision> place_all(std::vector<NodeView>& nodes, const std::vector<Request>& reqs, Strategy s);

/// Accounts a placed container to a node view.
void account(NodeView& n, const Request& r);

/// Scheduler views of every node with a valid spec, with usage from the
/// containers held (minus those listed in `exclude`).
std::vector<NodeView> node_views(const ClusterState& st,
                                 const std::unordered_map<std::string, bool>* exclude = nullptr);

}  // namespace berth::orch
