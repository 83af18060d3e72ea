// scheduler.cpp — filter then score, the Kubernetes/Nomad shape.
#include "berth/orchestrator/scheduler.h"

#include <algorithm>

namespace berth::orch {

namespace {

bool has(const std::vector<std::string>& list, const std::string& x) {
  return std::find(list.begin(), list.end(), x) != list.end();
}

}  // namespace

std::optional<std::string> infeasible(const NodeView& n, const Request& r) {
  if (!n.schedulable) return "node " + n.state;
  for (const auto& [k, v] : r.placement.labels) {
    auto it = n.spec.labels.find(k);
    if (it == n.spec.labels.end() || it->second != v) return "label " + k + " is not " + v;
  }
  if (!r.tmpl.empty() && !has(n.spec.templates, r.tmpl)) return "no template " + r.tmpl;
  if (!r.network.empty() && !has(n.spec.networks, r.network)) return "no network " + r.network;
  Resources free = n.spec.capacity;
  free -= n.used;
  if (r.resources.cpu_milli > free.cpu_milli) return "not enough cpu";
  if (r.resources.memory_mb > free.memory_mb) return "not enough memory";
  if (r.resources.disk_gb > free.disk_gb) return "not enough disk";
  if (r.placement.anti_affinity) {
    auto it = n.groups.find(r.group);
    if (it != n.groups.end() && it->second > 0) return "anti-affinity";
  }
  return std::nullopt;
}

namespace {

// The same tests as infeasible(), without building a reason.
bool feasible(const NodeView& n, const Request& r) {
  if (!n.schedulable) return false;
  if (!n.spec.capacity.covers(Resources{n.used.cpu_milli + r.resources.cpu_milli, n.used.memory_mb + r.resources.memory_mb,
                                        n.used.disk_gb + r.resources.disk_gb}))
    return false;
  if (r.placement.anti_affinity) {
    auto it = n.groups.find(r.group);
    if (it != n.groups.end() && it->second > 0) return false;
  }
  for (const auto& [k, v] : r.placement.labels) {
    auto it = n.spec.labels.find(k);
    if (it == n.spec.labels.end() || it->second != v) return false;
  }
  return (r.tmpl.empty() || has(n.spec.templates, r.tmpl)) && (r.network.empty() || has(n.spec.networks, r.network));
}

// Utilisation after placing r, in parts per million of the tightest
// dimension plus the mean of all three (so ties on one dimension break on
// the others).
int64_t utilisation_ppm(const NodeView& n, const Request& r) {
  auto frac = [](int64_t used, int64_t cap) -> int64_t { return cap > 0 ? used * 1000000 / cap : 0; };
  int64_t c = frac(n.used.cpu_milli + r.resources.cpu_milli, n.spec.capacity.cpu_milli);
  int64_t m = frac(n.used.memory_mb + r.resources.memory_mb, n.spec.capacity.memory_mb);
  int64_t d = frac(n.used.disk_gb + r.resources.disk_gb, n.spec.capacity.disk_gb);
  return std::max({c, m, d}) * 3 + (c + m + d);
}

}  // namespace

int64_t score(const NodeView& n, const Request& r, Strategy s) {
  int64_t u = utilisation_ppm(n, r);
  // Soft spreading of a role's replicas even without anti-affinity.
  int64_t same = 0;
  if (auto it = n.groups.find(r.group); it != n.groups.end()) same = it->second;
  if (s == Strategy::binpack) return u - same * 1000;
  return -u - same * 1000000;
}

Decision pick(const std::vector<NodeView>& nodes, const Request& r, Strategy s) {
  const NodeView* best = nullptr;
  int64_t best_score = 0;
  for (const auto& n : nodes) {
    if (!r.require.empty() && n.spec.id != r.require) continue;
    if (!feasible(n, r)) continue;
    if (!r.prefer.empty() && n.spec.id == r.prefer) return {n.spec.id, {}};
    int64_t sc = score(n, r, s);
    if (!best || sc > best_score || (sc == best_score && (n.containers < best->containers ||
                                                         (n.containers == best->containers && n.spec.id < best->spec.id)))) {
      best = &n;
      best_score = sc;
    }
  }
  if (best) return {best->spec.id, {}};
  if (nodes.empty()) return {{}, "no nodes in the cluster"};
  std::map<std::string, int> why;
  bool known = r.require.empty();
  for (const auto& n : nodes) {
    if (!r.require.empty() && n.spec.id != r.require) continue;
    known = true;
    if (auto no = infeasible(n, r)) why[*no]++;
  }
  if (!known) return {{}, "cannot move " + r.container + " to " + r.require + ": no such node"};
  std::string reason = "no node fits " + r.container + " (" + r.resources.str() + "):";
  for (const auto& [w, count] : why) reason += " " + std::to_string(count) + " " + w + ";";
  reason.pop_back();
  return {{}, reason};
}

void account(NodeView& n, const Request& r) {
  n.used += r.resources;
  n.containers++;
  n.groups[r.group]++;
}

std::vector<Decision> place_all(std::vector<NodeView>& nodes, const std::vector<Request>& reqs, Strategy s) {
  std::vector<Decision> out;
  out.reserve(reqs.size());
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < nodes.size(); ++i) index[nodes[i].spec.id] = i;
  for (const auto& r : reqs) {
    Decision d = pick(nodes, r, s);
    if (!d.node.empty()) account(nodes[index[d.node]], r);
    out.push_back(std::move(d));
  }
  return out;
}

std::vector<NodeView> node_views(const ClusterState& st, const std::unordered_map<std::string, bool>* exclude) {
  std::vector<NodeView> out;
  std::unordered_map<std::string, size_t> index;
  for (const auto& [id, n] : st.nodes()) {
    if (!n.spec) continue;
    NodeView v;
    v.spec = *n.spec;
    v.state = st.condition(id);
    v.schedulable = v.state == "ready";
    v.alloc_revision = n.alloc_revision;
    index[id] = out.size();
    out.push_back(std::move(v));
  }
  for (const auto& [id, c] : st.containers()) {
    if (exclude && exclude->count(id)) continue;
    auto it = index.find(c.node);
    if (it == index.end()) continue;
    NodeView& v = out[it->second];
    v.used += c.resources;
    v.containers++;
    v.groups[c.env + "." + c.role]++;
  }
  return out;
}

}  // namespace berth::orch
