// orchestrator_main.cpp — berth-orchestrator: one replica (leader or
// standby) of the cluster orchestrator.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>

#include "berth/base/log.h"
#include "berth/orchestrator/orchestrator.h"
#include "common.h"

using namespace berth;
using namespace berth::orch;

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

const char kUsage[] =
    "usage: berth-orchestrator [--etcd URL[,URL...]] [--etcd-cacert FILE] [--etcd-cert FILE --etcd-key FILE]\n"
    "         [--etcd-user NAME[:PASSWORD]] [--prefix /berth/] [--id NAME]\n"
    "         [--leader-ttl S] [--grace S] [--evict-rate NODES_PER_S] [--storm-fraction F]\n"
    "         [--commit-threads N] [--batch N] [--etcd-timeout-ms MS] [--log FILE] [--debug]\n"
    "         [--no-election]\n";

}  // namespace

int main(int argc, char** argv) {
  auto args = cli::parse_args(argc, argv, 1, {"debug", "no-election", "help"});
  if (!args) return cli::fail("berth-orchestrator", args.error());
  if (args->flag("help") || !args->pos.empty()) {
    std::fputs(kUsage, args->flag("help") ? stdout : stderr);
    return args->flag("help") ? 0 : 2;
  }
  std::string log_file = args->get("log");
  bool debug = args->flag("debug");
  OrchestratorOptions o;
  auto etcd = cli::etcd_config(*args);
  o.prefix = cli::prefix(*args);
  char host[256] = "orchestrator";
  gethostname(host, sizeof host - 1);
  o.id = args->get("id", std::string(host) + "-" + std::to_string(getpid()));
  o.leader_ttl = args->num("leader-ttl", 5);
  o.grace_ms = static_cast<long>(args->real("grace", 30) * 1000);
  o.evict_rate = args->real("evict-rate", 20);
  o.storm_fraction = args->real("storm-fraction", 0.55);
  o.commit_threads = static_cast<int>(args->num("commit-threads", 8));
  o.batch = static_cast<int>(std::clamp(args->num("batch", 40), 1L, 40L));
  o.elect = !args->flag("no-election");
  // Every option is read by now: one nothing read is unknown.
  if (auto st = args->check(); !st) {
    std::fprintf(stderr, "berth-orchestrator: %s\n%s", st.error().what().c_str(), kUsage);
    return 2;
  }
  if (!etcd) {
    std::fprintf(stderr, "berth-orchestrator: %s\n", etcd.error().what().c_str());
    return 2;
  }
  o.etcd = std::move(*etcd);
  if (o.grace_ms <= 0) {
    std::fprintf(stderr, "berth-orchestrator: --grace: expected a positive number of seconds\n");
    return 2;
  }
  if (o.leader_ttl < 2) {
    std::fprintf(stderr, "berth-orchestrator: --leader-ttl: expected at least 2 seconds\n");
    return 2;
  }
  log::configure(log_file, log::Format::json, debug);  // timestamped lines
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  Orchestrator orch(o);
  auto st = orch.run(g_stop);
  if (!st) return cli::fail("berth-orchestrator", st.error());
  const auto& s = orch.stats();
  log::info("stopped: " + std::to_string(s.placed.load()) + " placed, " + std::to_string(s.moved.load()) + " moved, " +
            std::to_string(s.removed.load()) + " removed, " + std::to_string(s.txns.load()) + " transactions, " +
            std::to_string(s.conflicts.load()) + " conflicts, " + std::to_string(s.fenced.load()) + " nodes fenced");
  return 0;
}
