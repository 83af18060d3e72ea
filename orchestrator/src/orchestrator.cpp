// orchestrator.cpp — election, the leader's watch-fed copy of the cluster
// and its reconcile passes.
#include "berth/orchestrator/orchestrator.h"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

#include "berth/base/fd.h"
#include "berth/base/log.h"
#include "berth/cluster/events.h"
#include "berth/cluster/state.h"
#include "berth/orchestrator/scheduler.h"

namespace berth::orch {

namespace {

using Clock = std::chrono::steady_clock;

long ms_since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t).count();
}

// One placement transaction: containers to put on one node.
struct Batch {
  std::string node;
  int64_t alloc_revision = 0;
  Resources alloc_after;
  int64_t count_after = 0;
  std::vector<ContainerRec> recs;  // with node = destination
  std::vector<std::string> from;   // previous node per rec ("" = new)
  std::vector<std::string> held;   // the source of its migration in progress ("" = none)
  std::vector<int64_t> revs;       // previous mod_revision per rec (0 = new)
  // filled by the commit
  bool done = false;
  bool conflict = false;
  int64_t revision = 0;
  std::string error;
};

std::string alloc_value(const Resources& r, int64_t count) {
  json::Value v = to_json(r);
  v.set("containers", count);
  return json::dump(v);
}

}  // namespace

struct Orchestrator::Impl {
  OrchestratorOptions& opt;
  OrchestratorStats& stats;
  Keys keys;
  Etcd etcd;
  ClusterState st;
  int64_t leader_lease = 0;
  int64_t leader_rev = 0;  // create_revision of our leader key
  std::atomic<bool> lost{false};
  // When the last successful renewal of the leader lease (or its grant)
  // was sent: steady_clock ticks.
  std::atomic<Clock::rep> renewed_sent{0};
  EventLog events;

  std::mutex mu;  // guards queue
  std::deque<WatchBatch> queue;
  bool resync = false;

  // nodes/ and envs/ come on separate watch streams, so an environment
  // change can arrive before node changes that etcd committed earlier.
  // Placement waits until the view of nodes/ has caught up with the newest
  // environment change applied (checked with a keys-only read).
  int64_t nodes_rev = 0;    // newest nodes/ revision applied
  int64_t env_barrier = 0;  // newest envs/ revision applied, until nodes/ are known to be as new
  Clock::time_point barrier_since;

  std::unordered_map<std::string, Clock::time_point> suspect_since;
  std::map<std::string, std::string> unplaceable;  // container -> reason last reported
  double evict_tokens = 0;
  Clock::time_point last_refill = Clock::now();
  bool storm_reported = false;
  std::set<std::string> long_fence_reported;
  int64_t conflicts_seen = 0;

  Impl(OrchestratorOptions& o, OrchestratorStats& s)
      : opt(o), stats(s), keys(o.prefix), etcd(o.etcd), st(keys), events(keys) {}

  // ---- election ----

  // One campaign attempt: true when we became leader.
  Result<bool> campaign() {
    auto cur = BERTH_TRY(etcd.get(keys.leader()));
    if (!cur.kvs.empty()) return false;
    auto sent = Clock::now();
    auto lease = BERTH_TRY(etcd.lease_grant(opt.leader_ttl));
    auto t = BERTH_TRY(etcd.txn({Compare::absent(keys.leader())}, {Op::put(keys.leader(), opt.id, lease.id)}));
    if (!t.succeeded) {
      (void)etcd.lease_revoke(lease.id);
      return false;
    }
    leader_lease = lease.id;
    leader_rev = t.revision;
    renewed_sent = sent.time_since_epoch().count();
    return true;
  }

  void keep_leadership(const std::atomic<bool>& stop, const std::atomic<bool>& done) {
    Etcd ka(opt.etcd);
    long period = std::max<long>(200, opt.leader_ttl * 1000 / 3);
    while (!stop.load() && !done.load()) {
      auto sent = Clock::now();
      auto ttl = ka.lease_keepalive(leader_lease);
      if (ttl && *ttl > 0) {
        renewed_sent = sent.time_since_epoch().count();
      } else if (ttl && *ttl == 0) {
        log::error("leadership lost: lease expired");
        lost = true;
        return;
      }
      if (lost.load()) return;
      sleep_unless(ttl ? period : 200, &done);
    }
  }

  // True (and leadership given up) once the lease may have expired: the
  // last renewal that succeeded was sent leader_step_down_ms ago.
  bool step_down_due() {
    if (!opt.elect || lost.load()) return lost.load();
    auto since = Clock::now() - Clock::time_point(Clock::duration(renewed_sent.load()));
    long ms = std::chrono::duration_cast<std::chrono::milliseconds>(since).count();
    if (ms < leader_step_down_ms(opt.leader_ttl, opt.tick_ms)) return false;
    log::error("leadership lost: no renewal of the leader lease for " + std::to_string(ms) +
               " ms; stepping down before it can expire");
    lost = true;
    return true;
  }

  std::vector<Compare> guard() const {
    if (!opt.elect) return {};
    return {Compare::create_revision(keys.leader(), leader_rev)};
  }

  // ---- health ----

  void refill(double rate) {
    double secs = ms_since(last_refill) / 1000.0;
    last_refill = Clock::now();
    evict_tokens = std::min(std::max(1.0, rate), evict_tokens + secs * rate);
  }

  // The grace of one node: --grace, or longer when the node's self-fence
  // needs longer to be sure to end first (its spec says how long).
  long grace_for(const std::string& id, const NodeSpec& spec) {
    if (spec.fence_grace_ms <= opt.grace_ms) return opt.grace_ms;
    if (long_fence_reported.insert(id).second)
      log::warn("node " + id + ": its self-fence needs a grace of " + std::to_string(spec.fence_grace_ms) +
                " ms, more than --grace " + std::to_string(opt.grace_ms) + " ms: waiting that long for it");
    return static_cast<long>(spec.fence_grace_ms);
  }

  void health() {
    refill(opt.evict_rate);
    size_t total = 0, dark = 0;
    std::vector<std::string> due;
    for (auto& [id, n] : st.nodes()) {
      if (!n.spec) continue;
      ++total;
      if (n.alive) {
        if (suspect_since.erase(id) && !n.fenced) events.add("recovered", fields({{"node", id}}));
        continue;
      }
      ++dark;
      if (n.fenced) continue;
      auto [it, fresh] = suspect_since.emplace(id, Clock::now());
      if (fresh) {
        log::warn("node " + id + ": lease gone, suspect");
        events.add("suspect", fields({{"node", id}}));
      } else if (ms_since(it->second) >= grace_for(id, *n.spec)) {
        due.push_back(id);
      }
    }
    // Many nodes dark at once is more likely a partition of the
    // orchestrator's side than that many failures: evict none, say so.
    bool storm = total > 0 && static_cast<double>(dark) / static_cast<double>(total) > opt.storm_fraction;
    if (storm_reported && !storm) {
      // Nodes still dark get a full grace from now: as a partition heals
      // its nodes come back one by one, and the last ones are not evicted
      // for being a little slower than the others.
      for (auto& [id, since] : suspect_since) since = Clock::now();
      log::warn(std::to_string(dark) + " of " + std::to_string(total) +
                " nodes dark: evictions resume, a full grace from now");
      events.add("evictions-resumed", fields({{"dark", std::to_string(dark)}, {"nodes", std::to_string(total)}}));
      storm_reported = false;
      return;
    }
    if (due.empty()) return;
    if (storm) {
      if (!storm_reported) {
        log::error(std::to_string(dark) + " of " + std::to_string(total) +
                   " nodes are dark at once: evictions stopped (possible partition)");
        events.add("evictions-stopped", fields({{"dark", std::to_string(dark)}, {"nodes", std::to_string(total)}}));
      }
      storm_reported = true;
      return;
    }
    for (const auto& id : due) {
      if (evict_tokens < 1) break;
      evict_tokens -= 1;
      fence(id);
    }
  }

  // Records the fence (only while the node's lease is still gone); its
  // containers are then re-placed by reconcile().
  void fence(const std::string& id) {
    std::vector<Compare> cmp = guard();
    cmp.push_back(Compare::absent(keys.node_alive(id)));
    std::string why = "{\"time\":\"" + log::rfc3339_now() + "\",\"reason\":\"lease expired\"}";
    std::vector<Op> ops{Op::put(keys.node_fence(id), why)};
    events.append_op(ops, "fence", fields({{"node", id}}));
    auto t = etcd.txn(cmp, ops);
    stats.txns++;
    if (!t) {
      log::warn("fence node " + id + ": " + t.error().what());
      return;
    }
    if (!t->succeeded) return;  // came back, or we are not leader any more
    stats.fenced++;
    log::warn("node " + id + ": fenced after " + std::to_string(opt.grace_ms) + " ms; moving its containers");
    st.apply(KeyValue{keys.node_fence(id), why, t->revision, t->revision, 1, 0}, false);
  }

  // ---- reconcile ----

  void reconcile() {
    std::vector<std::pair<std::string, int64_t>> drop;  // (container, mod_revision)
    std::vector<Request> reqs;
    std::unordered_map<std::string, const ContainerRec*> moving;
    std::unordered_map<std::string, Strategy> strategy_of;
    std::unordered_map<std::string, bool> exclude;
    const auto& cs = st.containers();
    // Containers no environment wants any more.
    for (const auto& [id, c] : cs) {
      auto e = st.envs().find(c.env);
      if (e == st.envs().end()) {
        if (!st.env_errors().count(c.env)) drop.emplace_back(id, c.mod_revision);
        continue;
      }
      const Role* role = nullptr;
      for (const auto& r : e->second.roles)
        if (r.name == c.role) role = &r;
      size_t dot = id.rfind('.');
      int64_t index = dot == std::string::npos ? -1 : std::atoll(id.c_str() + dot + 1);
      if (!role || index >= role->count) drop.emplace_back(id, c.mod_revision);
    }
    for (const auto& [name, env] : st.envs()) {
      for (const auto& role : env.roles) {
        for (int64_t i = 0; i < role.count; ++i) {
          std::string id = name + "." + role.name + "." + std::to_string(i);
          Request r{id, name + "." + role.name, role.tmpl, role.resources, role.placement, {}, role.network};
          auto it = cs.find(id);
          if (it == cs.end()) {
            reqs.push_back(std::move(r));
          } else {
            const ContainerRec& c = it->second;
            std::string cond = st.condition(c.node);
            bool displaced = cond == "fenced" || cond == "draining" || cond == "unknown" || cond == "invalid";
            bool changed = c.tmpl != role.tmpl || !(c.resources == role.resources) || c.network != role.network;
            // A migration whose source is gone: so is the disk; the
            // destination starts the container afresh, as after a failover.
            bool orphaned = !c.from.empty() && !can_hand_off(st.condition(c.from));
            // An operator's move to another node (berth-cluster move).
            auto asked = st.moves().find(id);
            bool move = asked != st.moves().end() && asked->second != c.node;
            if (!displaced && !changed && !orphaned && !move) continue;
            if (move) r.require = asked->second;
            else if (!displaced) r.prefer = c.node;
            moving[id] = &c;
            exclude[id] = true;
            reqs.push_back(std::move(r));
          }
          strategy_of[id] = env.strategy;
        }
      }
    }
    if (!drop.empty()) remove(drop);
    settle_moves();
    if (reqs.empty()) return;
    std::vector<NodeView> views = node_views(st, &exclude);
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < views.size(); ++i) index[views[i].spec.id] = i;
    std::map<std::string, std::vector<Batch>> by_node;
    for (const auto& r : reqs) {
      Decision d = pick(views, r, strategy_of[r.container]);
      if (d.node.empty() && !r.require.empty()) {
        // A move that cannot be done is dropped, with the reason.
        log::warn("move refused: " + d.reason);
        events.add("move-refused", fields({{"container", r.container}, {"to", r.require}, {"reason", d.reason}}));
        drop_move(r.container);
        continue;
      }
      if (d.node.empty()) {
        auto& last = unplaceable[r.container];
        if (last != d.reason) {
          log::warn("unplaceable: " + d.reason);
          events.add("unplaceable", fields({{"container", r.container}, {"reason", d.reason}}));
          last = d.reason;
        }
        continue;
      }
      unplaceable.erase(r.container);
      NodeView& v = views[index[d.node]];
      account(v, r);
      auto& batches = by_node[d.node];
      if (batches.empty() || static_cast<int>(batches.back().recs.size()) >= opt.batch) {
        batches.emplace_back();
        batches.back().node = d.node;
        batches.back().alloc_revision = v.alloc_revision;
      }
      Batch& b = batches.back();
      ContainerRec rec;
      auto mv = moving.find(r.container);
      std::string env = r.group.substr(0, r.group.find('.'));
      std::string role = r.group.substr(r.group.find('.') + 1);
      rec.id = r.container;
      rec.env = env;
      rec.role = role;
      rec.tmpl = r.tmpl;
      rec.resources = r.resources;
      for (const auto& ro : st.envs().at(env).roles)
        if (ro.name == role) rec.network = ro.network;
      rec.node = d.node;
      if (mv != moving.end()) migrate_from(*mv->second, rec);
      b.from.push_back(mv == moving.end() ? "" : mv->second->node);
      b.held.push_back(mv == moving.end() ? "" : mv->second->from);
      b.revs.push_back(mv == moving.end() ? 0 : mv->second->mod_revision);
      b.recs.push_back(std::move(rec));
      b.alloc_after = v.used;
      b.count_after = v.containers;
    }
    std::vector<Batch*> work;
    for (auto& [node, bs] : by_node)
      for (auto& b : bs) work.push_back(&b);
    commit(work);
  }

  // Nodes that can hand a container's disk over: alive, not fenced.
  static bool can_hand_off(const std::string& cond) {
    return cond == "ready" || cond == "draining" || cond == "cordoned";
  }

  // A container moving whole (same template) from a node that can hand
  // its disk over migrates cold: the holder of its disk (its node, or the
  // source of a migration not yet done) keeps it until the destination
  // has copied it. Otherwise it starts afresh from the template.
  void migrate_from(const ContainerRec& old, ContainerRec& rec) {
    const std::string& holder = old.from.empty() ? old.node : old.from;
    if (holder == rec.node || old.tmpl != rec.tmpl || !can_hand_off(st.condition(holder))) return;
    auto n = st.nodes().find(holder);
    if (n == st.nodes().end() || !n->second.spec) return;
    rec.from = holder;
    rec.from_address = n->second.spec->address;
  }

  // The nodes whose assignment of `r` a placement deletes: its previous
  // node and the source of its unfinished migration, unless still in use.
  static std::vector<std::string> dropped(const ContainerRec& r, const std::string& prev, const std::string& held) {
    std::vector<std::string> out;
    for (const std::string* n : {&prev, &held})
      if (!n->empty() && *n != r.node && *n != r.from && (out.empty() || out[0] != *n)) out.push_back(*n);
    return out;
  }

  // The operations one placement writes: the record and the destination's
  // assignment; the source of a migration keeps one (naming the
  // destination) until the copy is done; the dropped ones are deleted.
  size_t ops_of(const Batch& b, size_t i) const {
    return 2 + !b.recs[i].from.empty() + dropped(b.recs[i], b.from[i], b.held[i]).size() +
           st.moves().count(b.recs[i].id);
  }

  // Move requests with nothing left to do (the container is gone, or on
  // the node asked for) are deleted.
  void settle_moves() {
    std::vector<std::string> done;
    for (const auto& [id, to] : st.moves()) {
      auto c = st.containers().find(id);
      if (c == st.containers().end() || c->second.node == to) done.push_back(id);
    }
    for (const auto& id : done) drop_move(id);
  }

  // Deletes a move request, and our copy of it (the watch's news of the
  // delete comes later).
  void drop_move(const std::string& id) {
    auto del = etcd.del(keys.move(id));
    if (!del) return log::warn("move " + id + ": " + del.error().what());
    st.apply(KeyValue{keys.move(id), {}, 0, 0, 0, 0}, true);
  }

  // Commits the batches: in rounds (a node's second batch needs the
  // revision its first produced), and within a round several nodes'
  // batches packed into one transaction, each node guarded by its own
  // alloc revision. etcd allows 128 operations per branch.
  void commit(std::vector<Batch*>& work) {
    std::map<std::string, std::vector<Batch*>> chains;
    for (Batch* b : work) chains[b->node].push_back(b);
    for (size_t round = 0;; ++round) {
      std::vector<std::vector<Batch*>> groups;
      size_t ops = 0, cmps = 0;
      for (auto& [node, chain] : chains) {
        if (round >= chain.size()) continue;
        if (round > 0) {
          if (!chain[round - 1]->done) continue;
          chain[round]->alloc_revision = chain[round - 1]->revision;
        }
        Batch* b = chain[round];
        size_t bops = 1, bcmps = 1 + b->recs.size();
        for (size_t i = 0; i < b->recs.size(); ++i) bops += ops_of(*b, i);
        if (groups.empty() || ops + bops > kMaxOps || cmps + bcmps > kMaxOps) {
          groups.emplace_back();
          ops = 1;  // the event
          cmps = opt.elect ? 1 : 0;
        }
        groups.back().push_back(b);
        ops += bops;
        cmps += bcmps;
      }
      if (groups.empty()) break;
      std::atomic<size_t> next{0};
      auto worker = [&] {
        Etcd e(opt.etcd);
        for (size_t i; (i = next++) < groups.size();) commit_group(e, groups[i]);
      };
      int threads = std::max(1, std::min<int>(opt.commit_threads, static_cast<int>(groups.size())));
      std::vector<std::thread> pool;
      for (int i = 1; i < threads; ++i) pool.emplace_back(worker);
      worker();
      for (auto& t : pool) t.join();
    }
    for (Batch* b : work) {
      if (!b->error.empty()) log::warn("place on " + b->node + ": " + b->error);
      if (!b->done) continue;
      for (size_t i = 0; i < b->recs.size(); ++i) {
        ContainerRec& r = b->recs[i];
        st.apply(KeyValue{keys.container(r.id), json::dump(to_json(r)), b->revision, b->revision, 1, 0}, false);
        if (st.moves().count(r.id)) st.apply(KeyValue{keys.move(r.id), {}, b->revision, b->revision, 0, 0}, true);
        if (b->from[i].empty()) stats.placed++;
        else if (b->from[i] != b->node) stats.moved++;
      }
      st.apply(KeyValue{keys.node_alloc(b->node), alloc_value(b->alloc_after, b->count_after), b->revision, b->revision, 1, 0},
               false);
    }
  }

  static constexpr size_t kMaxOps = 126;

  void commit_group(Etcd& e, std::vector<Batch*>& group) {
    std::vector<Compare> cmp = guard();
    std::vector<Op> ops;
    std::set<std::string> fenced_sources;
    json::Value placed = json::Value::array(), moved = json::Value::array();
    for (Batch* bp : group) {
      Batch& b = *bp;
      cmp.push_back(Compare::mod_revision(keys.node_alloc(b.node), b.alloc_revision));
      ops.push_back(Op::put(keys.node_alloc(b.node), alloc_value(b.alloc_after, b.count_after)));
      for (size_t i = 0; i < b.recs.size(); ++i) {
        const ContainerRec& r = b.recs[i];
        cmp.push_back(b.revs[i] ? Compare::mod_revision(keys.container(r.id), b.revs[i]) : Compare::absent(keys.container(r.id)));
        // Moved off a fenced node: only while the fence holds. A node that
        // came back and cleared it since boots its containers again, and
        // must not find them placed elsewhere at the same time.
        if (!b.from[i].empty() && b.from[i] != b.node && st.condition(b.from[i]) == "fenced" &&
            fenced_sources.insert(b.from[i]).second)
          cmp.push_back(Compare::present(keys.node_fence(b.from[i])));
        std::string v = json::dump(to_json(r));
        ops.push_back(Op::put(keys.container(r.id), v));
        ops.push_back(Op::put(keys.assign(b.node, r.id), v));
        if (!r.from.empty()) ops.push_back(Op::put(keys.assign(r.from, r.id), v));
        for (const auto& n : dropped(r, b.from[i], b.held[i])) ops.push_back(Op::del(keys.assign(n, r.id)));
        if (st.moves().count(r.id)) ops.push_back(Op::del(keys.move(r.id)));
        if (!b.from[i].empty() && b.from[i] != b.node) {
          moved.push_back(r.id + " from " + b.from[i] + " to " + b.node + (r.from.empty() ? "" : " (migrating its disk)"));
        } else {
          placed.push_back(r.id + " on " + b.node);
        }
      }
    }
    json::Value detail = json::Value::object();
    if (!placed.as_array().empty()) detail.set("placed", std::move(placed));
    if (!moved.as_array().empty()) detail.set("moved", std::move(moved));
    events.append_op(ops, "placement", std::move(detail));
    auto t = e.txn(cmp, ops);
    stats.txns++;
    for (Batch* b : group) {
      if (!t) b->error = t.error().what();
      else if (!t->succeeded) b->conflict = true;
      else {
        b->done = true;
        b->revision = t->revision;
      }
    }
    if (t && !t->succeeded) stats.conflicts++;
  }

  void remove(const std::vector<std::pair<std::string, int64_t>>& drop) {
    for (size_t i = 0; i < drop.size(); i += 40) {
      std::vector<Compare> cmp = guard();
      std::vector<Op> ops;
      json::Value ids = json::Value::array();
      for (size_t j = i; j < std::min(drop.size(), i + 40); ++j) {
        const ContainerRec& c = st.containers().at(drop[j].first);
        cmp.push_back(Compare::mod_revision(keys.container(c.id), drop[j].second));
        ops.push_back(Op::del(keys.container(c.id)));
        ops.push_back(Op::del(keys.assign(c.node, c.id)));
        if (!c.from.empty()) ops.push_back(Op::del(keys.assign(c.from, c.id)));
        ids.push_back(c.id);
      }
      json::Value detail = json::Value::object();
      detail.set("removed", std::move(ids));
      events.append_op(ops, "remove", std::move(detail));
      auto t = etcd.txn(cmp, ops);
      stats.txns++;
      if (t && !t->succeeded) stats.conflicts++;
      if (!t || !t->succeeded) continue;
      for (size_t j = i; j < std::min(drop.size(), i + 40); ++j) {
        st.apply(KeyValue{keys.container(drop[j].first), {}, t->revision, t->revision, 0, 0}, true);
        stats.removed++;
      }
    }
  }

  // ---- leading ----

  void note_revisions(const WatchBatch& b) {
    for (const WatchEvent& e : b.events) {
      if (e.kv.key.compare(0, keys.nodes().size(), keys.nodes()) == 0) nodes_rev = std::max(nodes_rev, e.kv.mod_revision);
      else if (e.kv.key.compare(0, keys.envs().size(), keys.envs()) == 0 && e.kv.mod_revision > env_barrier) {
        if (env_barrier <= nodes_rev) barrier_since = Clock::now();
        env_barrier = e.kv.mod_revision;
      }
    }
  }

  // True when no node key changed after the last nodes/ event applied and
  // before the newest environment change (deletions are not seen by this
  // check; failure handling covers a node that vanished). A stream that
  // stays behind for 2 s gets a full re-read instead.
  bool nodes_caught_up() {
    if (env_barrier <= nodes_rev) return true;
    auto r = etcd.range(keys.nodes(), prefix_end(keys.nodes()), 0, true);
    if (r) {
      int64_t newest = 0;
      for (const KeyValue& kv : r->kvs)
        if (kv.mod_revision <= env_barrier) newest = std::max(newest, kv.mod_revision);
      if (newest <= nodes_rev) {
        env_barrier = 0;
        return true;
      }
    }
    if (ms_since(barrier_since) > 2000) {
      std::lock_guard<std::mutex> l(mu);
      resync = true;
    }
    return false;
  }

  Status lead(const std::atomic<bool>& stop) {
    std::atomic<bool> done{false};
    lost = false;
    std::thread ka, watch;
    if (opt.elect) {
      ka = std::thread([&] { keep_leadership(stop, done); });
      // The step-down check on a thread that never waits on etcd (the
      // keepalives and the reconcile's transactions may wait out their
      // deadlines on a member that does not answer).
      watch = std::thread([&] {
        while (!stop.load() && !done.load() && !step_down_due()) sleep_unless(100, &done);
      });
    }
    Defer join([&] {
      done = true;
      if (ka.joinable()) ka.join();
      if (watch.joinable()) watch.join();
    });
    suspect_since.clear();
    unplaceable.clear();
    auto rev = load_state(etcd, st);
    if (!rev) return rev.error();
    nodes_rev = *rev;
    env_barrier = 0;
    events.open(etcd);
    auto on_batch = [this](const WatchBatch& b) {
      std::lock_guard<std::mutex> l(mu);
      if (b.canceled) resync = true;
      else if (!b.events.empty()) queue.push_back(b);
    };
    // Not the whole prefix: assign/ (a copy of containers/) and events/
    // would double what etcd sends us. An elected leader is the only
    // writer of containers/ (every write is guarded by its leader key), so
    // it keeps its own copy and re-reads everything after a refused
    // transaction instead of watching its own writes come back.
    std::vector<std::unique_ptr<Watcher>> watchers;
    std::vector<std::string> watched{keys.nodes(), keys.envs(), keys.moves()};
    if (!opt.elect) watched.push_back(keys.containers());
    for (const std::string& p : watched)
      watchers.push_back(std::make_unique<Watcher>(opt.etcd, p, prefix_end(p), *rev + 1, on_batch));
    log::info("leading (" + std::to_string(st.nodes().size()) + " nodes, " + std::to_string(st.envs().size()) +
              " environments, " + std::to_string(st.containers().size()) + " containers)");
    while (!stop.load() && !step_down_due()) {
      stats.beats++;
      bool again = false;
      {
        std::lock_guard<std::mutex> l(mu);
        while (!queue.empty()) {
          note_revisions(queue.front());
          st.apply(queue.front());
          queue.pop_front();
        }
        again = resync || (opt.elect && conflicts_seen != stats.conflicts.load());
        conflicts_seen = stats.conflicts.load();
        resync = false;
      }
      if (again) {
        auto r = load_state(etcd, st);
        if (r) {
          for (auto& w : watchers) w->restart(*r + 1);
          nodes_rev = *r;
          env_barrier = 0;
        }
      }
      health();
      if (nodes_caught_up() && !step_down_due()) reconcile();
      events.tick(etcd);
      sleep_unless(opt.tick_ms, &stop);
    }
    for (auto& w : watchers) w->stop();
    if (opt.elect && !lost.load()) (void)etcd.lease_revoke(leader_lease);  // hand over at once
    return ok();
  }
};

Orchestrator::Orchestrator(OrchestratorOptions opt) : opt_(std::move(opt)) {}
Orchestrator::~Orchestrator() = default;

long leader_step_down_ms(int64_t leader_ttl_s, long tick_ms) {
  double lives = static_cast<double>(leader_ttl_s) * 1000 * (1 - 0.01) / (1 + 0.01);
  return std::max<long>(0, static_cast<long>(lives) - 200 - tick_ms);
}

Status Orchestrator::run(const std::atomic<bool>& stop) {
  if (opt_.etcd.endpoints.empty()) return Error::msg("no etcd endpoint");
  if (opt_.id.empty()) return Error::msg("no replica id");
  if (opt_.leader_ttl < 2) return Error::msg("leader TTL must be at least 2 s");
  Impl impl(opt_, stats_);
  bool announced = false;
  std::string told;
  auto status = [&](const std::string& s) {
    if (s == told || !opt_.on_status) return;
    told = s;
    opt_.on_status(s);
  };
  while (!stop.load()) {
    stats_.beats++;
    status("waiting for etcd");
    stats_.waiting = true;
    auto ready = impl.etcd.wait_ready(0, &stop);
    stats_.waiting = false;
    if (!ready) {
      if (stop.load()) break;
      return std::move(ready).error();  // refused: TLS or the user
    }
    if (!opt_.elect) {
      status("leader");
      auto st = impl.lead(stop);
      if (!st) log::error(st.error().what());
      sleep_unless(1000, &stop);
      continue;
    }
    auto won = impl.campaign();
    if (!won) {
      log::warn("campaign: " + won.error().what());
      sleep_unless(1000, &stop);
      continue;
    }
    if (!*won) {
      if (!announced) log::info("standby: another replica leads");
      announced = true;
      status("standby");
      sleep_unless(200, &stop);
      continue;
    }
    announced = false;
    log::info("elected leader as " + opt_.id);
    status("leader");
    auto st = impl.lead(stop);
    if (!st) log::error("leader: " + st.error().what());
    if (impl.lost.load()) log::warn("stepped down");
  }
  return ok();
}

}  // namespace berth::orch
