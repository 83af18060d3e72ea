// cluster_main.cpp — berth-cluster: environments, nodes, status and events
// of a cluster, through etcd (the orchestrator acts on what is written).
#include <cstdio>
#include <map>

#include "berth/cluster/events.h"
#include "cluster.h"

using namespace berth;
using namespace berth::orch;
using namespace berth::cluster;

namespace {

const char kUsage[] =
    "usage: berth-cluster [--etcd URL[,URL...]] [--etcd-cacert FILE] [--etcd-cert FILE --etcd-key FILE]\n"
    "                     [--etcd-user NAME[:PASSWORD]] [--etcd-timeout-ms MS] [--etcd-retry-ms MS]\n"
    "                     [--prefix /berth/] COMMAND\n"
    "  env create FILE [--wait S]     env apply FILE [--wait S]\n"
    "  env scale NAME ROLE COUNT [--cpus N] [--memory-mb N] [--disk-gb N] [--wait S]\n"
    "  env delete NAME [--wait S]     env show NAME     env list\n"
    "  node list   node cordon ID   node uncordon ID   node drain ID [--wait S]   node remove ID [--force]\n"
    "  move CONTAINER NODE [--wait S] (cold: stopped, disk copied, started there)\n"
    "  status (or cluster status): the leader, nodes with lease and fence, containers per state and as their nodes "
    "report them\n"
    "  events [--limit N]\n";

// Where a placed container stands, from its node's condition: on a live
// node (ready, cordoned or draining), migrating, waiting for rescheduling
// (its node suspect or fenced), or on a node gone (removed, or its spec
// invalid).
std::string container_state(const ClusterState& st, const ContainerRec& c) {
  if (!c.from.empty()) return "migrating";
  auto n = st.nodes().find(c.node);
  if (n == st.nodes().end() || !n->second.spec) return "on-gone-node";
  std::string cond = st.condition(c.node);
  if (cond == "ready" || cond == "cordoned" || cond == "draining") return "on-live-node";
  return "on-" + cond + "-node";
}

int status(Etcd& etcd, const cli::Args& a) {
  auto st = cli::read_cluster(etcd, cli::prefix(a));
  if (!st) return cli::fail("berth-cluster", st.error());
  auto leader = etcd.get(Keys(cli::prefix(a)).leader());
  if (!leader) return cli::fail("berth-cluster", leader.error().wrap("read the leader"));
  std::map<std::string, int> by_cond, per_node;
  for (const auto& [id, c] : st->containers()) per_node[c.node]++;
  for (const auto& [id, n] : st->nodes()) by_cond[st->condition(id)]++;
  std::printf("leader: %s\n", leader->kvs.empty() ? "(none)" : leader->kvs[0].value.c_str());
  std::printf("nodes: %zu", st->nodes().size());
  for (const auto& [c, n] : by_cond) std::printf(", %d %s", n, c.c_str());
  std::printf("\n  %-16s %-10s %-8s %-7s %s\n", "NODE", "CONDITION", "LEASE", "FENCED", "CONTAINERS");
  for (const auto& [id, n] : st->nodes())
    std::printf("  %-16s %-10s %-8s %-7s %d\n", id.c_str(), st->condition(id).c_str(), n.alive ? "held" : "expired",
                n.fenced ? "yes" : "no", per_node[id]);
  int64_t desired = 0;
  for (const auto& [name, e] : st->envs())
    for (const auto& r : e.roles) desired += r.count;
  std::map<std::string, int64_t> by_state;
  for (const auto& [id, c] : st->containers()) by_state[container_state(*st, c)]++;
  int64_t placed = static_cast<int64_t>(st->containers().size());
  if (desired > placed) by_state["unplaced"] = desired - placed;
  std::printf("environments: %zu\ncontainers: %lld placed of %lld desired", st->envs().size(), static_cast<long long>(placed),
              static_cast<long long>(desired));
  for (const auto& [state, n] : by_state) std::printf(", %lld %s", static_cast<long long>(n), state.c_str());
  std::printf("\n");
  // What the nodes say of the containers placed on them (nodes/<id>/status).
  std::map<std::string, int64_t> by_report;
  for (const auto& [id, c] : st->containers()) {
    const ContainerStatus* r = st->reported(c);
    by_report[r ? r->state : "not-reported"]++;
  }
  std::printf("reported by their nodes:");
  const char* sep = " ";
  for (const auto& [state, n] : by_report) {
    std::printf("%s%lld %s", sep, static_cast<long long>(n), state.c_str());
    sep = ", ";
  }
  std::printf("%s\n", by_report.empty() ? " none" : "");
  for (const auto& [name, err] : st->env_errors()) std::printf("environment %s: invalid: %s\n", name.c_str(), err.c_str());
  return 0;
}

int events(Etcd& etcd, const cli::Args& a) {
  Keys k(cli::prefix(a));
  auto r = etcd.get_prefix(k.events());
  if (!r) return cli::fail("berth-cluster", r.error().wrap("events"));
  long limit = a.integer("limit", 0);
  size_t from = limit > 0 && r->kvs.size() > static_cast<size_t>(limit) ? r->kvs.size() - limit : 0;
  for (size_t i = from; i < r->kvs.size(); ++i) std::printf("%s\n", r->kvs[i].value.c_str());
  return 0;
}

// The options of each verb besides the common ones.
const std::map<std::string, std::vector<std::string>> kVerbOptions = {
    {"env create", {"wait"}},  {"env apply", {"wait"}},   {"env scale", {"cpus", "memory-mb", "disk-gb", "wait"}},
    {"env delete", {"wait"}},  {"env show", {}},          {"env list", {}},
    {"node list", {}},         {"node cordon", {}},       {"node uncordon", {}},
    {"node drain", {"wait"}},  {"node remove", {"force"}}, {"move", {"wait"}},
    {"cluster status", {}},    {"status", {}},             {"events", {"limit"}},
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<cli::Flag> known = cli::etcd_options();
  known.insert(known.end(),
               {cli::Flag::boolean({"help", "h"}), cli::Flag::boolean({"force"}),
                cli::Flag::integer({"etcd-retry-ms"}, 0, 3600000), cli::Flag::integer({"wait"}, 0, 86400),
                cli::Flag::number({"cpus"}, 0, 100000, true), cli::Flag::integer({"memory-mb"}, 1, 1L << 40),
                cli::Flag::integer({"disk-gb"}, 1, 1L << 30), cli::Flag::integer({"limit"}, 0, 1L << 30)});
  auto args = cli::Args::parse(argc, argv, 1, known, cli::kOptions);
  if (!args) return cli::refuse("berth-cluster", args.error(), kUsage);
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (args->positional().empty()) return cli::refuse("berth-cluster", Error::msg("a command is required"), kUsage);
  const std::string& group = args->positional()[0];
  bool one_word = group == "move" || group == "events" || group == "status";
  std::string verb = one_word || args->positional().size() < 2 ? group : group + " " + args->positional()[1];
  auto takes = kVerbOptions.find(verb);
  if (takes == kVerbOptions.end()) return cli::refuse("berth-cluster", Error::msg("unknown command " + verb), kUsage);
  std::vector<std::string> names = takes->second;
  for (const auto& o : cli::etcd_options()) names.push_back(o.names[0]);
  names.emplace_back("etcd-retry-ms");
  if (auto st = args->only(names, verb); !st) return cli::refuse("berth-cluster", st.error(), kUsage);
  auto cfg = cli::etcd_config(*args);
  if (!cfg) return cli::refuse("berth-cluster", cfg.error(), "");
  cfg->retry_ms = args->integer("etcd-retry-ms", 3000);
  Etcd etcd(*cfg);
  if (group == "env") return cli::env_command(etcd, *args);
  if (group == "node") return cli::node_command(etcd, *args);
  if ((verb == "cluster status" && args->positional().size() == 2) ||
      (verb == "status" && args->positional().size() == 1))
    return status(etcd, *args);
  if (group == "events" && args->positional().size() == 1) return events(etcd, *args);
  if (group == "move") return cli::move_command(etcd, *args);
  std::fputs(kUsage, stderr);
  return 2;
}
