// cluster_node.cpp — berth-cluster node: list, cordon, uncordon, drain,
// remove; and move (one container to a node of the operator's choice).
#include <chrono>
#include <cstdio>
#include <thread>

#include "cluster.h"

namespace berth::orch::cli {

namespace {

constexpr const char* kProg = "berth-cluster";

std::string labels_str(const std::map<std::string, std::string>& m) {
  std::string s;
  for (const auto& [k, v] : m) s += (s.empty() ? "" : ",") + k + "=" + v;
  return s.empty() ? "-" : s;
}

int list(Etcd& etcd, const Args& a) {
  auto st = read_cluster(etcd, prefix(a));
  if (!st) return fail(kProg, st.error());
  std::printf("%-16s %-9s %-24s %-28s %-28s %s\n", "NODE", "STATE", "LABELS", "CAPACITY", "ALLOCATED", "CONTAINERS");
  for (const auto& v : node_views(*st)) {
    std::printf("%-16s %-9s %-24s %-28s %-28s %lld\n", v.spec.id.c_str(), v.state.c_str(), labels_str(v.spec.labels).c_str(),
                v.spec.capacity.str().c_str(), v.used.str().c_str(), static_cast<long long>(v.containers));
  }
  for (const auto& [id, n] : st->nodes())
    if (!n.spec_error.empty()) std::printf("%-16s %-9s %s\n", id.c_str(), "invalid", n.spec_error.c_str());
  return 0;
}

// A node that left for good: its keys (spec, lease, usage, allocation,
// admin state, fence) and its assignments go; the leader then sees its
// containers on an unknown node and places them elsewhere at once, without
// waiting for the grace period. A node whose lease is still held is alive
// (or died less than a TTL ago): refused unless --force.
int remove(Etcd& etcd, const Args& a, const std::string& id) {
  Keys k(prefix(a));
  auto keys = etcd.get_prefix(k.node(id));
  if (!keys) return fail(kProg, keys.error());
  if (keys->kvs.empty()) return fail(kProg, Error(ENOENT, "node " + id + ": not found"));
  auto alive = etcd.get(k.node_alive(id));
  if (!alive) return fail(kProg, alive.error());
  if (!alive->kvs.empty() && !a.has("force"))
    return fail(kProg, Error(EBUSY, "node " + id + " is alive (its lease is held): stop its berthd first (or drain it), "
                                        "or use --force"));
  auto st = read_cluster(etcd, prefix(a));
  if (!st) return fail(kProg, st.error());
  int moved = 0;
  for (const auto& [cid, c] : st->containers()) moved += c.node == id;
  if (auto r = etcd.del(k.node(id), prefix_end(k.node(id))); !r) return fail(kProg, r.error().wrap("remove " + id));
  if (auto r = etcd.del(k.assigns(id), prefix_end(k.assigns(id))); !r) return fail(kProg, r.error().wrap("remove " + id));
  std::printf("%s: removed; %d containers to be placed elsewhere\n", id.c_str(), moved);
  return 0;
}

}  // namespace

// A cold migration the operator asks for: the leader moves the container
// (its disk copied from its node when that one is alive) unless the node
// cannot take it, which it says in a move-refused event.
int move_command(Etcd& etcd, const Args& a) {
  if (a.positional().size() != 3) {
    std::fprintf(stderr, "%s: move: expected CONTAINER NODE\n", kProg);
    return 2;
  }
  const std::string &id = a.positional()[1], &to = a.positional()[2];
  Keys k(prefix(a));
  auto st = read_cluster(etcd, prefix(a));
  if (!st) return fail(kProg, st.error());
  auto c = st->containers().find(id);
  if (c == st->containers().end()) return fail(kProg, Error(ENOENT, "move: no container " + id + " in the cluster"));
  auto n = st->nodes().find(to);
  if (n == st->nodes().end() || !n->second.spec) return fail(kProg, Error(ENOENT, "move " + id + ": no node " + to));
  if (std::string cond = st->condition(to); cond != "ready")
    return fail(kProg, Error(EBUSY, "move " + id + ": node " + to + " is " + cond + ", not ready"));
  if (c->second.node == to && c->second.from.empty()) {
    std::printf("%s: already on %s\n", id.c_str(), to.c_str());
    return 0;
  }
  if (auto r = etcd.put(k.move(id), to); !r) return fail(kProg, r.error().wrap("move " + id));
  std::printf("%s: moving from %s to %s\n", id.c_str(), c->second.node.c_str(), to.c_str());
  long wait = a.integer("wait", 60);
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
  for (;;) {
    auto now = read_cluster(etcd, prefix(a));
    if (!now) return fail(kProg, now.error());
    auto x = now->containers().find(id);
    if (x == now->containers().end()) return fail(kProg, Error(ENOENT, "move " + id + ": the container was removed"));
    if (x->second.node == to && x->second.from.empty()) {
      std::printf("%s: on %s\n", id.c_str(), to.c_str());
      return 0;
    }
    if (!now->moves().count(id) && x->second.node != to)
      return fail(kProg, Error(EINVAL, "move " + id + " to " + to + ": refused by the orchestrator (see events)"));
    if (std::chrono::steady_clock::now() >= until) {
      std::fprintf(stderr, "%s: move %s: not on %s after %ld s (see events)\n", kProg, id.c_str(), to.c_str(), wait);
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

int node_command(Etcd& etcd, const Args& a) {
  const auto& p = a.positional();
  std::string verb = p.size() > 1 ? p[1] : "";
  if (verb == "list" && p.size() == 2) return list(etcd, a);
  if (verb == "remove" && p.size() == 3) return remove(etcd, a, p[2]);
  if ((verb == "cordon" || verb == "uncordon" || verb == "drain") && p.size() == 3) {
    Keys k(prefix(a));
    const std::string& id = p[2];
    auto spec = etcd.get(k.node_spec(id));
    if (!spec) return fail(kProg, spec.error());
    if (spec->kvs.empty()) return fail(kProg, Error(ENOENT, "node " + id + ": not found"));
    auto r = verb == "uncordon" ? etcd.del(k.node_admin(id))
                                : etcd.put(k.node_admin(id), verb == "drain" ? "draining" : "cordoned");
    if (!r) return fail(kProg, r.error().wrap(verb + " " + id));
    std::printf("%s: %s\n", id.c_str(), verb == "uncordon" ? "ready" : verb == "drain" ? "draining" : "cordoned");
    if (verb != "drain") return 0;
    long wait = a.integer("wait", 60);
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(wait);
    for (;;) {
      auto st = read_cluster(etcd, prefix(a));
      if (!st) return fail(kProg, st.error());
      int left = 0;
      // A container migrating away is still here until its disk is copied.
      for (const auto& [cid, c] : st->containers()) left += c.node == id || c.from == id;
      if (left == 0) {
        std::printf("%s: drained\n", id.c_str());
        return 0;
      }
      if (std::chrono::steady_clock::now() >= until) {
        std::fprintf(stderr, "%s: drain %s: %d containers still there after %ld s (see events)\n", kProg, id.c_str(), left, wait);
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }
  std::fprintf(stderr, "%s: node: expected list, cordon|uncordon|drain|remove ID\n", kProg);
  return 2;
}

}  // namespace berth::orch::cli
