// orchestrator_main.cpp — berth-orchestrator: one replica (leader or
// standby) of the cluster orchestrator.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "berth/base/log.h"
#include "berth/base/sd_notify.h"
#include "berth/orchestrator/orchestrator.h"
#include "common.h"

using namespace berth;
using namespace berth::orch;

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

// systemd's watchdog (WatchdogSec): pings at half the interval while the
// election or leader loop turns, a long reconcile commits transactions, or
// etcd's health is being polled (calls bounded by deadlines). A loop stuck elsewhere stops the pings, and
// systemd restarts the replica.
void watchdog(const OrchestratorStats& s, const std::atomic<bool>& done) {
  long usec = sd::watchdog_usec();
  if (usec <= 0) return;
  int64_t seen = -1;
  while (!done.load()) {
    int64_t now = s.beats.load() + s.txns.load();
    if (now != seen || s.waiting.load()) sd::notify("WATCHDOG=1");
    else log::error("watchdog: the orchestrator's loop has not turned for " + std::to_string(usec / 2000) + " ms");
    seen = now;
    sleep_unless(usec / 2000, &done);
  }
}

const char kUsage[] =
    "usage: berth-orchestrator [--etcd URL[,URL...]] [--etcd-cacert FILE] [--etcd-cert FILE --etcd-key FILE]\n"
    "         [--etcd-user NAME[:PASSWORD]] [--prefix /berth/] [--id NAME]\n"
    "         [--leader-ttl S] [--grace S] [--evict-rate NODES_PER_S] [--storm-fraction F]\n"
    "         [--commit-threads N] [--batch N] [--etcd-timeout-ms MS] [--log FILE] [--debug]\n"
    "         [--no-election]\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<cli::Flag> known = cli::etcd_options();
  known.insert(known.end(),
               {cli::Flag::boolean({"help", "h"}), cli::Flag::boolean({"debug"}), cli::Flag::boolean({"no-election"}),
                cli::Flag::text({"id"}), cli::Flag::text({"log"}), cli::Flag::integer({"leader-ttl"}, 2, 3600),
                cli::Flag::number({"grace"}, 0, 86400, true), cli::Flag::number({"evict-rate"}, 0, 1e6, true),
                cli::Flag::number({"storm-fraction"}, 0, 1, true), cli::Flag::integer({"commit-threads"}, 1, 256),
                cli::Flag::integer({"batch"}, 1, 40)});
  auto args = cli::Args::parse(argc, argv, 1, known, cli::kOptions);
  if (!args) return cli::refuse("berth-orchestrator", args.error(), kUsage);
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->positional().empty())
    return cli::refuse("berth-orchestrator", Error::msg("unexpected argument " + args->positional()[0]), kUsage);
  std::string log_file = args->get("log");
  bool debug = args->has("debug");
  OrchestratorOptions o;
  auto etcd = cli::etcd_config(*args);
  if (!etcd) return cli::refuse("berth-orchestrator", etcd.error(), "");
  o.etcd = std::move(*etcd);
  o.prefix = cli::prefix(*args);
  char host[256] = "orchestrator";
  gethostname(host, sizeof host - 1);
  o.id = args->get("id", std::string(host) + "-" + std::to_string(getpid()));
  o.leader_ttl = args->integer("leader-ttl", 5);
  o.grace_ms = static_cast<long>(args->number("grace", 30) * 1000);
  o.evict_rate = args->number("evict-rate", 20);
  o.storm_fraction = args->number("storm-fraction", 0.55);
  o.commit_threads = static_cast<int>(args->integer("commit-threads", 8));
  o.batch = static_cast<int>(args->integer("batch", 40));
  o.elect = !args->has("no-election");
  log::configure(log_file, log::Format::json, debug);  // timestamped lines
  sd::take_from_environment();
  o.on_status = [](const std::string& what) { sd::notify("STATUS=" + what); };
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  Orchestrator orch(o);
  // Ready once the options and files are checked: what etcd does is in
  // STATUS= (waiting for etcd, standby, leader).
  sd::notify("READY=1");
  std::atomic<bool> done{false};
  std::thread dog(watchdog, std::cref(orch.stats()), std::cref(done));
  auto st = orch.run(g_stop);
  sd::notify("STOPPING=1");
  done = true;
  dog.join();
  if (!st) return cli::fail("berth-orchestrator", st.error());
  const auto& s = orch.stats();
  log::info("stopped: " + std::to_string(s.placed.load()) + " placed, " + std::to_string(s.moved.load()) + " moved, " +
            std::to_string(s.removed.load()) + " removed, " + std::to_string(s.txns.load()) + " transactions, " +
            std::to_string(s.conflicts.load()) + " conflicts, " + std::to_string(s.fenced.load()) + " nodes fenced");
  return 0;
}
