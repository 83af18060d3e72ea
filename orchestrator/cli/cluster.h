// cluster.h — the command groups of berth-cluster.
#pragma once

#include "berth/cluster/etcd.h"
#include "berth/cluster/state.h"
#include "berth/orchestrator/scheduler.h"
#include "common.h"

namespace berth::orch::cli {

/// The cluster as read now (one consistent revision).
Result<ClusterState> read_cluster(Etcd& etcd, const std::string& prefix);

/// Refuses an environment that cannot be placed on the cluster as it is
/// (its own current containers excluded): a template no node has,
/// resources larger than every node, or unsatisfiable placement rules.
Status check_placeable(const ClusterState& st, const Environment& env);

int env_command(Etcd& etcd, const Args& a);
int node_command(Etcd& etcd, const Args& a);
int move_command(Etcd& etcd, const Args& a);

}  // namespace berth::orch::cli
