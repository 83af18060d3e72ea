// state.cpp — the cluster's keys decoded into nodes, environments and
// containers.
#include "berth/cluster/state.h"

#include "berth/base/log.h"

namespace berth::cluster {

void ClusterState::clear() {
  key_rev_.clear();
  nodes_.clear();
  envs_.clear();
  env_errors_.clear();
  containers_.clear();
  moves_.clear();
}

void ClusterState::apply(const WatchBatch& b) {
  for (const auto& e : b.events) apply(e.kv, e.type == WatchEvent::Type::del);
}

void ClusterState::apply(const KeyValue& kv, bool deleted) {
  int64_t& seen = key_rev_[kv.key];
  if (kv.mod_revision && kv.mod_revision < seen) return;
  seen = kv.mod_revision;
  std::string_view key = kv.key;
  const std::string& p = keys_.prefix();
  if (key.substr(0, p.size()) != p) return;
  key.remove_prefix(p.size());
  auto take = [&](std::string_view dir) {
    if (key.substr(0, dir.size()) != dir) return false;
    key.remove_prefix(dir.size());
    return true;
  };
  if (take("nodes/")) {
    size_t slash = key.find('/');
    if (slash == std::string_view::npos) return;
    std::string id(key.substr(0, slash));
    std::string_view what = key.substr(slash + 1);
    NodeInfo& n = nodes_[id];
    if (what == "spec") {
      n.spec.reset();
      n.spec_error.clear();
      if (!deleted) {
        auto s = node_spec_from(kv.value);
        if (s && s->id == id) n.spec = std::move(*s);
        else n.spec_error = s ? "spec id " + s->id + " does not match its key" : s.error().what();
        if (!n.spec_error.empty()) log::warn("node " + id + ": ignored: " + n.spec_error);
      }
    } else if (what == "alive") {
      n.alive = !deleted;
    } else if (what == "admin") {
      n.admin = deleted ? "" : kv.value;
    } else if (what == "fence") {
      n.fenced = !deleted;
    } else if (what == "usage") {
      n.usage = deleted ? "" : kv.value;
    } else if (what == "status") {
      n.status.clear();
      if (!deleted) {
        auto st = node_status_from(kv.value);
        if (st) n.status = std::move(*st);
        else log::warn("node " + id + ": status ignored: " + st.error().what());
      }
    } else if (what == "alloc") {
      n.alloc_revision = deleted ? 0 : kv.mod_revision;
    }
    if (!n.spec && n.spec_error.empty() && !n.alive && n.admin.empty() && !n.fenced && n.usage.empty() &&
        n.status.empty() && n.alloc_revision == 0)
      nodes_.erase(id);
  } else if (take("envs/")) {
    std::string name(key);
    envs_.erase(name);
    env_errors_.erase(name);
    if (deleted) return;
    auto e = environment_from(kv.value);
    if (e && e->name == name) envs_[name] = std::move(*e);
    else env_errors_[name] = e ? "name does not match its key" : e.error().what();
  } else if (take("moves/")) {
    if (deleted) moves_.erase(std::string(key));
    else moves_[std::string(key)] = kv.value;
  } else if (take("containers/")) {
    std::string id(key);
    if (deleted) {
      containers_.erase(id);
      return;
    }
    auto c = container_from(kv.value);
    if (!c) {
      log::warn("container " + id + ": ignored: " + c.error().what());
      return;
    }
    c->mod_revision = kv.mod_revision;
    containers_[id] = std::move(*c);
  }
}

const ContainerStatus* ClusterState::reported(const ContainerRec& c) const {
  auto n = nodes_.find(c.node);
  if (n == nodes_.end()) return nullptr;
  auto it = n->second.status.find(c.id);
  return it == n->second.status.end() ? nullptr : &it->second;
}

std::string ClusterState::condition(const std::string& id) const {
  auto it = nodes_.find(id);
  if (it == nodes_.end()) return "unknown";
  const NodeInfo& n = it->second;
  if (!n.spec) return n.spec_error.empty() ? "joining" : "invalid";
  if (n.fenced) return "fenced";
  if (!n.alive) return "suspect";
  if (!n.admin.empty()) return n.admin;
  return "ready";
}

Result<int64_t> load_state(Etcd& etcd, ClusterState& st) {
  // One read-only transaction: the ranges share one revision.
  const Keys& k = st.keys();
  auto t = BERTH_TRY_CTX(
      etcd.txn({}, {Op::get(k.nodes(), prefix_end(k.nodes())), Op::get(k.envs(), prefix_end(k.envs())),
                    Op::get(k.containers(), prefix_end(k.containers())), Op::get(k.moves(), prefix_end(k.moves()))}),
      "read cluster state");
  st.clear();
  for (const auto& r : t.ranges)
    for (const auto& kv : r.kvs) st.apply(kv, false);
  return t.revision;
}

}  // namespace berth::cluster
