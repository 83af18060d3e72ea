// cluster_env.cpp — berth-cluster env: environments are validated against
// the cluster before anything is written, so a refused file places nothing.
#include <chrono>
#include <cstdio>
#include <map>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "berth/base/fs.h"
#include "berth/orchestrator/scheduler.h"
#include "cluster.h"

namespace berth::orch::cli {

namespace {

constexpr const char* kProg = "berth-cluster";

Result<ClusterState> read_cluster_impl(Etcd& etcd, const std::string& prefix) {
  ClusterState st{Keys(prefix)};
  BERTH_TRY(load_state(etcd, st));
  return st;
}

int64_t desired_count(const Environment& e) {
  int64_t n = 0;
  for (const auto& r : e.roles) n += r.count;
  return n;
}

// Where one container of an environment stands for --wait and env show:
// "running" once its node says so, else what keeps it from running.
std::string standing(const ClusterState& st, const ContainerRec& c, std::string* error = nullptr) {
  if (!c.from.empty()) return "migrating";
  std::string cond = st.condition(c.node);
  if (cond != "ready" && cond != "cordoned" && cond != "draining") return "on-" + cond + "-node";
  const ContainerStatus* r = st.reported(c);
  if (!r) return "starting";
  if (error) *error = r->error;
  return r->state;
}

// Polls until every container of `env` is placed as the file says on a
// live node that keeps it (ready or cordoned) and that node reports it
// running, or, for a deleted environment, until none is left. A start
// that fails on its node is shown once as it is reported (the node
// retries it); at the deadline every container not running is named
// with its node's report.
int wait_for(Etcd& etcd, const std::string& prefix, const std::string& name, const Environment* env, long seconds) {
  if (seconds <= 0) return 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  int64_t want = env ? desired_count(*env) : 0;
  std::map<std::string, std::string> told;  // container -> the failure already shown
  for (;;) {
    auto st = read_cluster(etcd, prefix);
    if (!st) return fail(kProg, st.error());
    int64_t placed = 0, running = 0;
    std::vector<std::string> behind;
    for (const auto& [id, c] : st->containers()) {
      if (c.env != name) continue;
      if (!env) {
        ++placed;
        continue;
      }
      bool as_filed = false;
      for (const auto& r : env->roles)
        as_filed |= r.name == c.role && r.tmpl == c.tmpl && r.resources == c.resources &&
                    (st->condition(c.node) == "ready" || st->condition(c.node) == "cordoned");
      if (!as_filed) continue;
      ++placed;
      std::string error;
      std::string where = standing(*st, c, &error);
      if (where == "running") {
        ++running;
        continue;
      }
      std::string line = id + " on " + c.node + ": " + where + (error.empty() ? "" : ": " + error);
      if (where == "failed" && told[id] != error) {
        std::fprintf(stderr, "%s: %s: %s (the node retries it)\n", kProg, name.c_str(), line.c_str());
        told[id] = error;
      }
      behind.push_back(std::move(line));
    }
    if (!env && placed == 0) {
      std::printf("%s: deleted\n", name.c_str());
      return 0;
    }
    if (env && running == want) {
      std::printf("%s: %lld containers placed and running\n", name.c_str(), static_cast<long long>(running));
      return 0;
    }
    if (std::chrono::steady_clock::now() >= until) {
      if (!env) {
        std::fprintf(stderr, "%s: %s: %lld containers still placed after %ld s (see events)\n", kProg, name.c_str(),
                     static_cast<long long>(placed), seconds);
        return 1;
      }
      std::fprintf(stderr, "%s: %s: %lld of %lld containers running after %ld s (%lld placed; see events)\n", kProg,
                   name.c_str(), static_cast<long long>(running), static_cast<long long>(want), seconds,
                   static_cast<long long>(placed));
      for (const auto& line : behind) std::fprintf(stderr, "  %s\n", line.c_str());
      return 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Writes the environment: create refuses an existing one, apply and scale
// replace the version they read.
int store(Etcd& etcd, const Args& a, const Environment& env, bool create, int64_t expect_rev) {
  auto st = read_cluster(etcd, prefix(a));
  if (!st) return fail(kProg, st.error());
  auto check = check_placeable(*st, env);
  if (!check) return fail(kProg, check.error().wrap("environment " + env.name + " refused, nothing placed"));
  Keys k(prefix(a));
  Compare cmp = create || expect_rev == 0 ? Compare::absent(k.env(env.name)) : Compare::mod_revision(k.env(env.name), expect_rev);
  auto t = etcd.txn({cmp}, {Op::put(k.env(env.name), json::dump(to_json(env)))});
  if (!t) return fail(kProg, t.error().wrap("store environment " + env.name));
  if (!t->succeeded) {
    return fail(kProg, Error(EEXIST, "environment " + env.name +
                                         (create ? " already exists (use env apply)" : " changed meanwhile; retry")));
  }
  std::printf("%s: %s\n", env.name.c_str(), create ? "created" : "updated");
  return wait_for(etcd, prefix(a), env.name, &env, a.integer("wait", 30));
}

Result<std::pair<Environment, int64_t>> current(Etcd& etcd, const Args& a, const std::string& name) {
  Keys k(prefix(a));
  auto r = BERTH_TRY(etcd.get(k.env(name)));
  if (r.kvs.empty()) return Error(ENOENT, "environment " + name + ": not found");
  auto e = BERTH_TRY_CTX(environment_from(r.kvs[0].value), "environment " + name);
  return std::make_pair(std::move(e), r.kvs[0].mod_revision);
}

int show(Etcd& etcd, const Args& a, const std::string& name) {
  auto cur = current(etcd, a, name);
  if (!cur) return fail(kProg, cur.error());
  auto st = read_cluster(etcd, prefix(a));
  if (!st) return fail(kProg, st.error());
  std::printf("%s\n", json::dump(to_json(cur->first), true).c_str());
  std::printf("%-32s %-16s %-10s %-12s %s\n", "CONTAINER", "NODE", "NODE-STATE", "STATE", "RESOURCES");
  std::vector<std::string> errors;
  for (const auto& [id, c] : st->containers()) {
    if (c.env != name) continue;
    std::string error;
    std::string where = standing(*st, c, &error);
    std::printf("%-32s %-16s %-10s %-12s %s\n", id.c_str(), c.node.c_str(), st->condition(c.node).c_str(),
                where.c_str(), c.resources.str().c_str());
    if (!error.empty()) errors.push_back(id + ": " + error);
  }
  for (const auto& e : errors) std::printf("error: %s\n", e.c_str());
  // What a rescheduling does to a container's data, said where operators look.
  std::printf(
      "failover: a container rescheduled off a lost node starts again from its template on another node; "
      "what it wrote on the lost node is not carried over (a drain or move copies the disk)\n");
  return 0;
}

}  // namespace

Result<ClusterState> read_cluster(Etcd& etcd, const std::string& prefix) { return read_cluster_impl(etcd, prefix); }

Status check_placeable(const ClusterState& st, const Environment& env) {
  std::unordered_map<std::string, bool> own;
  for (const auto& [id, c] : st.containers())
    if (c.env == env.name) own[id] = true;
  std::vector<NodeView> views = node_views(st, &own);
  if (views.empty()) return Error::msg("no node has joined the cluster");
  for (size_t i = 0; i < env.roles.size(); ++i) {
    const Role& r = env.roles[i];
    std::string where = "roles[" + std::to_string(i) + "] (" + r.name + ")";
    bool tmpl = false, net = r.network.empty(), fits = false;
    for (const auto& v : views) {
      for (const auto& t : v.spec.templates) tmpl |= t == r.tmpl;
      for (const auto& n : v.spec.networks) net |= n == r.network;
      fits |= v.spec.capacity.covers(r.resources);
    }
    if (!tmpl) return Error::msg(where + ".template: no node has template \"" + r.tmpl + "\"");
    if (!net) return Error::msg(where + ".network: no node has network \"" + r.network + "\"");
    if (!fits) return Error::msg(where + ".resources: " + r.resources.str() + " is larger than every node");
  }
  for (size_t i = 0; i < env.roles.size(); ++i) {
    const Role& r = env.roles[i];
    for (int64_t j = 0; j < r.count; ++j) {
      Request q{env.name + "." + r.name + "." + std::to_string(j), env.name + "." + r.name, r.tmpl, r.resources,
                r.placement, {}, r.network};
      Decision d = pick(views, q, env.strategy);
      if (d.node.empty())
        return Error::msg("roles[" + std::to_string(i) + "] (" + r.name + "): unsatisfiable placement: " + d.reason);
      for (auto& v : views)
        if (v.spec.id == d.node) account(v, q);
    }
  }
  return ok();
}

int env_command(Etcd& etcd, const Args& a) {
  const auto& p = a.positional();
  std::string verb = p.size() > 1 ? p[1] : "";
  if ((verb == "create" || verb == "apply") && p.size() == 3) {
    auto text = fs::read_file(p[2], 1 << 20);
    if (!text) return fail(kProg, text.error());
    auto env = environment_from(*text);
    if (!env) return fail(kProg, env.error().wrap(p[2]));
    int64_t rev = 0;
    if (verb == "apply") {
      auto cur = current(etcd, a, env->name);
      if (cur) rev = cur->second;
      else if (cur.error().code() != ENOENT) return fail(kProg, cur.error());
    }
    return store(etcd, a, *env, verb == "create", rev);
  }
  if (verb == "scale" && p.size() == 5) {
    auto cur = current(etcd, a, p[2]);
    if (!cur) return fail(kProg, cur.error());
    Environment env = cur->first;
    Role* role = nullptr;
    for (auto& r : env.roles)
      if (r.name == p[3]) role = &r;
    if (!role) return fail(kProg, Error(ENOENT, "environment " + p[2] + ": no role " + p[3]));
    char* end = nullptr;
    long count = std::strtol(p[4].c_str(), &end, 10);
    if (!end || *end || count < 0 || count > 100000) return fail(kProg, Error::msg("count: expected 0..100000, got " + p[4]));
    role->count = count;
    if (a.has("cpus")) role->resources.cpu_milli = static_cast<int64_t>(a.number("cpus", 0) * 1000);
    if (a.has("memory-mb")) role->resources.memory_mb = a.integer("memory-mb", 0);
    if (a.has("disk-gb")) role->resources.disk_gb = a.integer("disk-gb", 0);
    // Round-trip through the strict parser: the same rules as a file.
    auto checked = environment_from(json::dump(to_json(env)));
    if (!checked) return fail(kProg, checked.error().wrap("scale " + p[2]));
    return store(etcd, a, *checked, false, cur->second);
  }
  if (verb == "delete" && p.size() == 3) {
    Keys k(prefix(a));
    auto r = etcd.del(k.env(p[2]));
    if (!r) return fail(kProg, r.error().wrap("delete environment " + p[2]));
    return wait_for(etcd, prefix(a), p[2], nullptr, a.integer("wait", 30));
  }
  if (verb == "show" && p.size() == 3) return show(etcd, a, p[2]);
  if (verb == "list" && p.size() == 2) {
    auto st = read_cluster(etcd, prefix(a));
    if (!st) return fail(kProg, st.error());
    for (const auto& [name, e] : st->envs()) {
      int64_t placed = 0;
      for (const auto& [id, c] : st->containers()) placed += c.env == name;
      std::printf("%-24s %lld/%lld placed\n", name.c_str(), static_cast<long long>(placed),
                  static_cast<long long>(desired_count(e)));
    }
    return 0;
  }
  std::fprintf(stderr, "%s: env: expected create|apply FILE, scale NAME ROLE COUNT, delete|show NAME, list\n", kProg);
  return 2;
}

}  // namespace berth::orch::cli
