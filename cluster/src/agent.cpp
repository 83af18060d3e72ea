// agent.cpp — registration, keepalive, fencing on return, and convergence
// of one node to its assignments.
#include "berth/cluster/agent.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <thread>
#include <unordered_map>

#include "berth/base/fs.h"
#include "berth/base/log.h"

namespace berth::cluster {

using Clock = std::chrono::steady_clock;

// The watchdog's period (FenceBudget::check_ms counts it).
constexpr long kFenceCheckMs = 100;

long FenceBudget::min_grace_ms() const {
  double need = static_cast<double>(deadline_ms()) * (1 + drift) / (1 - drift) - static_cast<double>(lease_ttl_ms);
  return need <= 0 ? 0 : static_cast<long>(std::ceil(need));
}

NodeAgent::NodeAgent(Keys keys, NodeSpec spec, ContainerDriver& driver, AgentOptions opt)
    : keys_(std::move(keys)), spec_(std::move(spec)), driver_(driver), opt_(std::move(opt)), events_(keys_, spec_.id) {
  if (opt_.keepalive_ms <= 0) opt_.keepalive_ms = opt_.lease_ttl * 1000 / 3;
  if (opt_.fence) {
    opt_.fence->lease_ttl_ms = opt_.lease_ttl * 1000;
    spec_.fence_grace_ms = opt_.fence->min_grace_ms();
  }
  if (!opt_.renewal_file.empty()) {
    // A predecessor's last renewal in this boot: the fence clock goes on
    // from there, not from now.
    auto text = fs::read_file(opt_.renewal_file, 64);
    if (text) {
      char* end = nullptr;
      long long ns = std::strtoll(text->c_str(), &end, 10);
      auto then = Clock::time_point(std::chrono::nanoseconds(ns));
      if (end != text->c_str() && ns > 0 && then <= last_renewed_) {
        last_renewed_ = then;
        log::info("node " + spec_.id + ": the last lease renewal was sent " +
                  std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - then).count()) +
                  " ms ago (" + opt_.renewal_file + "): the fence clock counts from then");
      }
    }
  }
}

void NodeAgent::renewed(Clock::time_point sent) {
  last_renewed_ = sent;
  if (opt_.renewal_file.empty()) return;
  std::string ns =
      std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(sent.time_since_epoch()).count());
  if (auto st = fs::write_file_atomic(opt_.renewal_file, ns + "\n", 0600); !st)
    log::warn("node " + spec_.id + ": " + st.error().what());
}

Result<int64_t> NodeAgent::join(Etcd& etcd) {
  // The lease lives at least its TTL past this moment, whenever etcd
  // grants it: the fence clock starts here.
  auto sent = Clock::now();
  auto lease = BERTH_TRY_CTX(etcd.lease_grant(opt_.lease_ttl), "node " + spec_.id + ": join");
  std::string spec;
  {
    std::lock_guard<std::mutex> l(mu_);
    spec = json::dump(to_json(spec_));
  }
  std::string alive = "{\"time\":\"" + log::rfc3339_now() + "\"}";
  std::string a = keys_.assigns(spec_.id);
  auto t = BERTH_TRY_CTX(
      etcd.txn({}, {Op::put(keys_.node_spec(spec_.id), spec), Op::put(keys_.node_alive(spec_.id), alive, lease.id),
                    Op::get(a, prefix_end(a)), Op::get(keys_.node_fence(spec_.id))}),
      "node " + spec_.id + ": join");
  if (t.ranges.size() != 2) return Error(EPROTO, "node " + spec_.id + ": join: unexpected transaction answer");
  bool fenced = !t.ranges[1].kvs.empty();
  {
    std::lock_guard<std::mutex> l(mu_);
    desired_.clear();
    key_rev_.clear();
    for (const auto& kv : t.ranges[0].kvs) {
      auto c = container_from(kv.value);
      if (!c) {
        log::warn("node " + spec_.id + ": assignment " + kv.key + ": " + c.error().what());
        continue;
      }
      key_rev_[kv.key] = kv.mod_revision;
      desired_[c->id] = std::move(*c);
    }
    lease_ = lease.id;
    joined_rev_ = t.revision;
    status_dirty_ = true;  // the old lease took the reports with it
    fence_pending_ = fenced;
    spec_dirty_ = false;
    auto now = Clock::now();
    renewed(sent);
    next_keepalive_ = now + std::chrono::milliseconds(opt_.keepalive_ms);
    // Spread the usage reports of many nodes over the period.
    static thread_local std::minstd_rand rng(std::random_device{}());
    next_usage_ = now + std::chrono::milliseconds(opt_.usage_ms ? rng() % opt_.usage_ms : 0);
  }
  lift_self_fence("joined with a new lease");
  if (opt_.resync_ms > 0) {
    // The resync thread converges (stale copies first, then the fence,
    // then the starts), so the join, and with it the first renewal of
    // the new lease, is never held up by slow stops or creates.
    std::lock_guard<std::mutex> l(mu_);
    next_resync_ = Clock::now();
    return t.revision;
  }
  Outcome out = converge(Mode::missing);
  schedule(out.complete);
  if (fenced) {
    if (!out.stale_stopped) {
      // Still fenced: no new work comes here until a retry stops them.
      log::warn("node " + spec_.id + ": was fenced; a stale container did not stop, fence kept");
    } else {
      BERTH_TRY(clear_fence(etcd));
    }
  }
  return t.revision;
}

Status NodeAgent::clear_fence(Etcd& etcd) {
  // The stale copies are stopped: now the scheduler may use us again.
  BERTH_TRY_CTX(etcd.del(keys_.node_fence(spec_.id)), "node " + spec_.id + ": clear fence");
  {
    std::lock_guard<std::mutex> l(mu_);
    fence_pending_ = false;
  }
  log::info("node " + spec_.id + ": was fenced; stale containers stopped, fence cleared");
  return ok();
}

NodeAgent::Outcome NodeAgent::converge(Mode mode) {
  std::lock_guard<std::mutex> d(drive_mu_);
  std::map<std::string, ContainerRec> want;
  {
    std::lock_guard<std::mutex> l(mu_);
    want = desired_;
  }
  Outcome out;
  std::set<std::string> have;
  for (auto& id : driver_.list()) have.insert(std::move(id));
  for (const auto& id : have) {
    if (want.count(id)) continue;
    auto st = driver_.stop(id);
    if (!st) {
      log::warn("node " + spec_.id + ": stop " + id + ": " + st.error().what());
      out.stale_stopped = out.complete = false;
    } else {
      report(id, "");
    }
  }
  {
    // Reports of containers neither assigned nor here any more go.
    std::lock_guard<std::mutex> l(mu_);
    for (auto it = status_.begin(); it != status_.end();) {
      if (want.count(it->first) || have.count(it->first)) {
        ++it;
        continue;
      }
      it = status_.erase(it);
      status_dirty_ = true;
    }
  }
  if (mode == Mode::stale_only) return out;
  for (const auto& [id, c] : want) {
    if (c.node != spec_.id) {
      // Migrating away: stopped and kept until the destination has it.
      if (!have.count(id)) continue;
      if (auto st = driver_.hand_off(id); !st) {
        log::warn("node " + spec_.id + ": hand off " + id + ": " + st.error().what());
        out.complete = false;
      } else {
        report(id, "handing-off");
      }
      continue;
    }
    if (mode == Mode::missing && have.count(id)) continue;
    if (self_fenced_.load()) {
      out.complete = false;  // started again once the lease is back
      break;
    }
    auto st = driver_.start(c);
    if (!st) {
      log::warn("node " + spec_.id + ": start " + id + ": " + st.error().what());
      report(id, "failed", st.error().what());
      out.complete = false;
    } else {
      report(id, "running");
      if (!c.from.empty()) {
        std::lock_guard<std::mutex> l(mu_);
        handoffs_.insert(id);
      }
    }
  }
  return out;
}

void NodeAgent::schedule(bool complete) {
  std::lock_guard<std::mutex> l(mu_);
  auto now = Clock::now();
  if (complete) {
    backoff_ms_ = 1000;
    next_resync_ = opt_.resync_ms > 0 ? now + std::chrono::milliseconds(opt_.resync_ms) : Clock::time_point::max();
    return;
  }
  next_resync_ = now + std::chrono::milliseconds(backoff_ms_);
  backoff_ms_ = std::min(backoff_ms_ * 2, 30000L);
}

void NodeAgent::on_events(const std::vector<const WatchEvent*>& evs) {
  bool changed = false;
  std::vector<std::string> updated;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!lease_) return;
    for (const WatchEvent* e : evs) {
      if (e->kv.mod_revision <= joined_rev_) continue;
      int64_t& seen = key_rev_[e->kv.key];
      if (e->kv.mod_revision < seen) continue;
      seen = e->kv.mod_revision;
      std::string id = e->kv.key.substr(e->kv.key.rfind('/') + 1);
      if (e->type == WatchEvent::Type::del) {
        changed |= desired_.erase(id) > 0;
        continue;
      }
      auto c = container_from(e->kv.value);
      if (!c) {
        log::warn("node " + spec_.id + ": assignment " + id + ": " + c.error().what());
        continue;
      }
      auto it = desired_.find(id);
      if (it != desired_.end() && !(it->second.resources == c->resources && it->second.tmpl == c->tmpl))
        updated.push_back(id);  // vertical scaling in place
      desired_[id] = std::move(*c);
      changed = true;
    }
  }
  if (!changed) return;
  Outcome out = converge(Mode::missing);
  for (const auto& id : updated) {
    std::optional<ContainerRec> c;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (auto it = desired_.find(id); it != desired_.end()) c = it->second;
    }
    if (!c) continue;
    std::lock_guard<std::mutex> d(drive_mu_);
    if (self_fenced_.load()) break;
    auto st = driver_.start(*c);
    if (!st) {
      log::warn("node " + spec_.id + ": update " + id + ": " + st.error().what());
      report(id, "failed", st.error().what());
      out.complete = false;
    } else {
      report(id, "running");
    }
  }
  if (!out.complete) schedule(false);
}

std::optional<std::string> NodeAgent::handing_off_to(const std::string& id) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = desired_.find(id);
  if (it == desired_.end() || it->second.node == spec_.id) return std::nullopt;
  return it->second.node;
}

size_t NodeAgent::handoffs_pending() const {
  std::lock_guard<std::mutex> l(mu_);
  return handoffs_.size();
}

void NodeAgent::complete_handoffs(Etcd& etcd) {
  struct Done {
    ContainerRec rec;
    int64_t rev;
  };
  std::vector<Done> due;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (const auto& id : handoffs_) {
      auto it = desired_.find(id);
      auto rev = key_rev_.find(keys_.assign(spec_.id, id));
      if (it == desired_.end() || it->second.node != spec_.id || it->second.from.empty() || rev == key_rev_.end())
        continue;  // moved on meanwhile: the orchestrator's to settle
      due.push_back({it->second, rev->second});
    }
    handoffs_.clear();
  }
  if (due.empty()) return;
  if (!events_open_) {
    events_.open(etcd);
    events_open_ = true;
  }
  events_.tick(etcd);
  for (auto& [rec, rev] : due) {
    std::string from = rec.from;
    rec.from.clear();
    rec.from_address.clear();
    std::string v = json::dump(to_json(rec));
    std::vector<Op> ops{Op::put(keys_.container(rec.id), v), Op::put(keys_.assign(spec_.id, rec.id), v),
                        Op::del(keys_.assign(from, rec.id))};
    events_.append_op(ops, "migrated", fields({{"container", rec.id}, {"from", from}, {"to", spec_.id}}));
    auto t = etcd.txn({Compare::mod_revision(keys_.container(rec.id), rev)}, ops);
    if (!t) {
      log::warn("node " + spec_.id + ": migration of " + rec.id + " done, not yet recorded: " + t.error().what());
      std::lock_guard<std::mutex> l(mu_);
      handoffs_.insert(rec.id);
      continue;
    }
    if (t->succeeded) log::info("node " + spec_.id + ": " + rec.id + " migrated from " + from);
  }
}

void NodeAgent::report(const std::string& id, const std::string& state, const std::string& error) {
  std::lock_guard<std::mutex> l(mu_);
  if (state.empty()) {
    status_dirty_ |= status_.erase(id) > 0;
    return;
  }
  ContainerStatus& c = status_[id];
  if (c.state == state && c.error == error) return;
  c.state = state;
  c.error = error;
  c.since = log::rfc3339_now();
  status_dirty_ = true;
}

void NodeAgent::publish_status(Etcd& etcd) {
  std::string value;
  int64_t lease;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto now = Clock::now();
    if (opt_.status_ms <= 0 || !status_dirty_ || !lease_ || now < next_status_) return;
    value = json::dump(to_json(status_));
    lease = lease_;
    status_dirty_ = false;
    next_status_ = now + std::chrono::milliseconds(opt_.status_ms);
  }
  if (auto r = etcd.put(keys_.node_status(spec_.id), value, lease); !r) {
    log::warn(r.error().wrap("node " + spec_.id + ": container reports").what());
    std::lock_guard<std::mutex> l(mu_);
    status_dirty_ = true;  // the next call tries again
  }
}

Status NodeAgent::resync(Etcd& etcd) {
  complete_handoffs(etcd);
  publish_status(etcd);
  bool fence;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!lease_ || Clock::now() < next_resync_) return ok();
    fence = fence_pending_;
  }
  if (opt_.resync_ms > 0) refresh_templates(etcd);
  if (fence) {
    // Stale copies go before the fence does, and the fence before any
    // start: the scheduler gives us work only once they are gone.
    if (!converge(Mode::stale_only).stale_stopped) {
      log::warn("node " + spec_.id + ": was fenced; a stale container did not stop, fence kept");
      schedule(false);
      return ok();
    }
    BERTH_TRY(clear_fence(etcd));
  }
  Outcome out = converge(opt_.resync_ms > 0 ? Mode::all : Mode::missing);
  schedule(out.complete);
  return ok();
}

void NodeAgent::refresh_templates(Etcd& etcd) {
  auto t = driver_.templates();
  auto n = driver_.networks();
  std::string spec;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto [now, kept] : {std::pair{&t, &spec_.templates}, std::pair{&n, &spec_.networks}}) {
      if (!*now) continue;
      std::sort((*now)->begin(), (*now)->end());
      if (**now != *kept) {
        *kept = std::move(**now);
        spec_dirty_ = true;
      }
    }
    if (!spec_dirty_) return;
    spec = json::dump(to_json(spec_));
  }
  if (auto r = etcd.put(keys_.node_spec(spec_.id), spec); !r) {
    log::warn(r.error().wrap("node " + spec_.id + ": new templates or networks").what());
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  spec_dirty_ = false;
  log::info("node " + spec_.id + ": spec updated: " + std::to_string(spec_.templates.size()) + " templates, " +
            std::to_string(spec_.networks.size()) + " networks");
}

Status NodeAgent::tick(Etcd& etcd) {
  auto now = Clock::now();
  if (!lease_) return join(etcd).ok() ? ok() : Status(Error::msg("node " + spec_.id + ": not joined"));
  if (now >= next_keepalive_) {
    auto ttl = etcd.lease_keepalive(lease_);
    if (ttl && *ttl > 0) {
      {
        std::lock_guard<std::mutex> l(mu_);
        renewed(now);  // sent then: the lease lives a TTL past it
      }
      next_keepalive_ = now + std::chrono::milliseconds(opt_.keepalive_ms);
      // Still the same lease: nobody may have placed our containers.
      lift_self_fence("lease renewed");
    } else if (ttl) {
      log::warn("node " + spec_.id + ": lease expired; rejoining");
      {
        std::lock_guard<std::mutex> l(mu_);
        lease_ = 0;
      }
      auto j = join(etcd);
      if (!j) return j.error();
    } else {
      next_keepalive_ = now + std::chrono::milliseconds(500);
      return ttl.error().wrap("node " + spec_.id + ": keepalive");
    }
  }
  if (opt_.usage_ms > 0 && now >= next_usage_) {
    next_usage_ = now + std::chrono::milliseconds(opt_.usage_ms);
    json::Value u = driver_.usage();
    if (!u.is_object()) u = json::Value::object();
    u.set("time", log::rfc3339_now());
    size_t n;
    {
      std::lock_guard<std::mutex> l(mu_);
      n = desired_.size();
    }
    u.set("assigned", static_cast<int64_t>(n));
    auto r = etcd.put(keys_.node_usage(spec_.id), json::dump(u));
    if (!r) return r.error().wrap("node " + spec_.id + ": usage report");
  }
  return ok();
}

void NodeAgent::check_fence() {
  if (!opt_.fence) return;
  long quiet;
  {
    std::lock_guard<std::mutex> l(mu_);
    quiet = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_renewed_).count();
    if (quiet < opt_.fence->after_ms || (self_fenced_.load() && !fence_retry_)) return;
    self_fenced_ = true;
  }
  auto t0 = Clock::now();
  log::error("node " + spec_.id + ": no lease renewal for " + std::to_string(quiet) +
             " ms: fencing itself, stopping its cluster containers (the orchestrator may place them elsewhere " +
             std::to_string(opt_.fence->lease_ttl_ms + spec_.fence_grace_ms - quiet) + " ms from now at the earliest)");
  std::lock_guard<std::mutex> d(drive_mu_);
  auto ids = driver_.list();
  size_t n = ids.size();
  auto st = driver_.fence_all(ids);
  bool failed = !st;
  for (const auto& id : ids) report(id, "fenced", failed ? st.error().what() : "");
  if (failed) log::error("node " + spec_.id + ": fence: " + st.error().what());
  {
    std::lock_guard<std::mutex> l(mu_);
    fence_retry_ = failed;  // the next check tries the rest again
  }
  long ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  log::warn("node " + spec_.id + ": fenced itself: " + std::to_string(n) + " cluster containers stopped in " +
            std::to_string(ms) + " ms" + (failed ? "; some did not stop, retrying" : ""));
}

void NodeAgent::lift_self_fence(const char* why) {
  {
    std::lock_guard<std::mutex> l(mu_);
    if (!self_fenced_.load()) return;
    self_fenced_ = false;
    fence_retry_ = false;
    // Boot what is still ours now (a rejoin's resync destroys first what
    // was placed elsewhere meanwhile).
    backoff_ms_ = 1000;
    next_resync_ = Clock::now();
  }
  log::warn("node " + spec_.id + ": " + why + ": self-fence lifted, its containers start again");
}

Status NodeAgent::leave(Etcd& etcd) {
  int64_t lease;
  {
    std::lock_guard<std::mutex> l(mu_);
    lease = std::exchange(lease_, 0);
  }
  if (!lease) return ok();
  return etcd.lease_revoke(lease);
}

AgentHost::AgentHost(EtcdConfig cfg, Keys keys, std::vector<NodeAgent*> agents, int threads)
    : cfg_(std::move(cfg)), keys_(std::move(keys)), agents_(std::move(agents)), threads_(std::max(1, threads)) {}

Status AgentHost::run(const std::atomic<bool>& stop, bool leave_on_stop) {
  if (agents_.empty()) return Error::msg("no node to run");
  // The self-fencing watchdog runs from the start, before etcd is ever
  // reached, and on a thread of its own: no etcd call can delay it.
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    while (!stop.load() && !done.load()) {
      for (NodeAgent* a : agents_) a->check_fence();
      sleep_unless(kFenceCheckMs, &done);
    }
  });
  struct Join {
    std::atomic<bool>& done;
    std::thread& t;
    ~Join() {
      done = true;
      t.join();
    }
  } join_watchdog{done, watchdog};
  {
    Etcd e(cfg_);
    BERTH_TRY(e.wait_ready(0, &stop));
  }
  // Watch from before the joins: each agent skips what its join read.
  Etcd e(cfg_);
  int64_t start = 0;
  while (!stop.load()) {
    auto r = e.get(keys_.leader());
    if (r) {
      start = r->revision + 1;
      break;
    }
    log::warn("agent: " + r.error().what());
    sleep_unless(1000, &stop);
  }
  std::unordered_map<std::string, NodeAgent*> by_id;
  for (NodeAgent* a : agents_) by_id[a->id()] = a;
  std::string wkey = agents_.size() == 1 ? keys_.assigns(agents_[0]->id()) : keys_.assigns();
  size_t skip = keys_.assigns().size();
  std::unique_ptr<Watcher> watch;
  watch = std::make_unique<Watcher>(cfg_, wkey, prefix_end(wkey), start, [&](const WatchBatch& b) {
    std::unordered_map<NodeAgent*, std::vector<const WatchEvent*>> per;
    for (const auto& ev : b.events) {
      std::string_view k = ev.kv.key;
      if (k.size() <= skip) continue;
      k.remove_prefix(skip);
      auto it = by_id.find(std::string(k.substr(0, k.find('/'))));
      if (it != by_id.end()) per[it->second].push_back(&ev);
    }
    for (auto& [a, evs] : per) a->on_events(evs);
    if (b.canceled && b.compact_revision) {
      // History was compacted under us: resume from what is left (the
      // next rejoin re-reads the assignments in full).
      log::error("agent: watch history compacted at " + std::to_string(b.compact_revision) + "; resuming there");
      watch->restart(b.compact_revision);
    }
  });
  std::vector<std::thread> pool;
  for (int t = 0; t < threads_; ++t) {
    pool.emplace_back([&, t] {
      Etcd etcd(cfg_);
      std::vector<NodeAgent*> mine;
      for (size_t i = t; i < agents_.size(); i += threads_) mine.push_back(agents_[i]);
      long backoff = 200;
      for (NodeAgent* a : mine) {
        while (!stop.load()) {
          auto j = a->join(etcd);
          if (j) break;
          log::warn(j.error().what());
          sleep_unless(backoff, &stop);
          backoff = std::min(backoff * 2, 5000L);
        }
      }
      while (!stop.load()) {
        for (NodeAgent* a : mine) {
          auto st = a->tick(etcd);
          if (!st) log::warn(st.error().what());
        }
        sleep_unless(100, &stop);
      }
      if (leave_on_stop)
        for (NodeAgent* a : mine) (void)a->leave(etcd);
    });
  }
  pool.emplace_back([&] {
    Etcd etcd(cfg_);
    while (!stop.load()) {
      for (NodeAgent* a : agents_) {
        auto st = a->resync(etcd);
        if (!st) log::warn(st.error().what());
      }
      sleep_unless(100, &stop);
    }
  });
  for (auto& th : pool) th.join();
  watch->stop();
  return ok();
}

}  // namespace berth::cluster
