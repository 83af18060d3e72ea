// node_sim_main.cpp — berth-node-sim: many simulated nodes in one process,
// speaking the node agent's etcd protocol; a container "runs" by being
// recorded (and, with --state-dir, listed in <dir>/<node>).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/cluster/agent.h"
#include "common.h"

using namespace berth;
using namespace berth::cluster;
using namespace berth::orch;

namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

// Records containers instead of running them.
class RecordingDriver : public ContainerDriver {
public:
  RecordingDriver(std::string node, std::string state_dir) : node_(std::move(node)), dir_(std::move(state_dir)) {}
  Status start(const ContainerRec& c) override {
    std::lock_guard<std::mutex> l(mu_);
    running_[c.id] = c.resources;
    return save();
  }
  Status stop(const std::string& id) override {
    std::lock_guard<std::mutex> l(mu_);
    running_.erase(id);
    return save();
  }
  std::vector<std::string> list() override {
    std::lock_guard<std::mutex> l(mu_);
    std::vector<std::string> out;
    for (const auto& [id, _] : running_) out.push_back(id);
    return out;
  }
  json::Value usage() override {
    std::lock_guard<std::mutex> l(mu_);
    Resources used;
    for (const auto& [_, r] : running_) used += r;
    json::Value v = json::Value::object();
    v.set("used", to_json(used));
    v.set("running", static_cast<int64_t>(running_.size()));
    return v;
  }

private:
  Status save() {
    if (dir_.empty()) return ok();
    std::string text;
    for (const auto& [id, _] : running_) text += id + "\n";
    return fs::write_file_atomic(fs::join(dir_, node_), text);
  }
  std::string node_, dir_;
  std::mutex mu_;
  std::map<std::string, Resources> running_;
};

std::map<std::string, std::string> parse_labels(const std::string& s) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    std::string kv = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) out[kv.substr(0, eq)] = kv.substr(eq + 1);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

const char kUsage[] =
    "usage: berth-node-sim [--etcd URL] [--prefix /berth/] [--nodes N] [--id-prefix sim-] [--first I]\n"
    "         [--cpus N] [--memory-mb N] [--disk-gb N] [--labels k=v,...] [--templates a,b]\n"
    "         [--lease-ttl S] [--usage-interval S] [--status-interval S] [--threads N] [--state-dir DIR] [--log "
    "FILE]\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<cli::Flag> known = cli::etcd_options();
  known.insert(
      known.end(),
      {cli::Flag::boolean({"debug"}), cli::Flag::boolean({"help", "h"}), cli::Flag::text({"log"}),
       cli::Flag::integer({"nodes"}, 1, 1000000), cli::Flag::integer({"first"}, 0, 1000000),
       cli::Flag::text({"id-prefix"}), cli::Flag::text({"state-dir"}), cli::Flag::number({"cpus"}, 0, 100000, true),
       cli::Flag::integer({"memory-mb"}, 1, 1L << 40), cli::Flag::integer({"disk-gb"}, 1, 1L << 30),
       cli::Flag::text({"labels"}), cli::Flag::text({"templates"}), cli::Flag::integer({"lease-ttl"}, 2, 3600),
       cli::Flag::number({"usage-interval"}, 0, 86400, true), cli::Flag::integer({"threads"}, 1, 1024),
       cli::Flag::number({"status-interval"}, 0, 86400, true)});
  auto args = cli::Args::parse(argc, argv, 1, known, cli::kOptions);
  if (!args) return cli::refuse("berth-node-sim", args.error(), kUsage);
  if (args->has("help")) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!args->positional().empty())
    return cli::refuse("berth-node-sim", Error::msg("unexpected argument " + args->positional()[0]), kUsage);
  log::configure(args->get("log"), log::Format::json, args->has("debug"));  // timestamped lines
  long n = args->integer("nodes", 1);
  long first = args->integer("first", 0);
  std::string id_prefix = args->get("id-prefix", "sim-");
  std::string state_dir = args->get("state-dir");
  if (!state_dir.empty()) {
    auto st = fs::mkdir_p(state_dir);
    if (!st) return cli::fail("berth-node-sim", st.error());
  }
  NodeSpec base;
  double cpus = args->number("cpus", 16);
  base.capacity =
      Resources{static_cast<int64_t>(cpus * 1000), args->integer("memory-mb", 65536), args->integer("disk-gb", 1000)};
  base.labels = parse_labels(args->get("labels", "region=local,group=sim"));
  std::string tl = args->get("templates", "debian-12,alpine");
  for (size_t pos = 0; pos <= tl.size();) {
    size_t comma = tl.find(',', pos);
    std::string t = tl.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (!t.empty()) base.templates.push_back(t);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  AgentOptions ao;
  ao.lease_ttl = args->integer("lease-ttl", 15);
  ao.usage_ms = static_cast<long>(args->number("usage-interval", 30) * 1000);
  ao.status_ms = static_cast<long>(args->number("status-interval", ao.status_ms / 1000.0) * 1000);
  Keys keys(cli::prefix(*args));
  std::vector<std::unique_ptr<RecordingDriver>> drivers;
  std::vector<std::unique_ptr<NodeAgent>> agents;
  std::vector<NodeAgent*> ptrs;
  for (long i = 0; i < n; ++i) {
    NodeSpec s = base;
    char id[64];
    std::snprintf(id, sizeof id, "%s%04ld", id_prefix.c_str(), first + i);
    s.id = id;
    if (!valid_name(s.id)) return cli::fail("berth-node-sim", Error::msg("node id " + s.id + " is not a valid name"));
    drivers.push_back(std::make_unique<RecordingDriver>(s.id, state_dir));
    agents.push_back(std::make_unique<NodeAgent>(keys, s, *drivers.back(), ao));
    ptrs.push_back(agents.back().get());
  }
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  auto etcd = cli::etcd_config(*args);
  if (!etcd) return cli::fail("berth-node-sim", etcd.error());
  AgentHost host(std::move(*etcd), keys, ptrs,
                 static_cast<int>(args->integer("threads", std::min(32L, std::max(1L, n / 25)))));
  auto st = host.run(g_stop, true);
  if (!st) return cli::fail("berth-node-sim", st.error());
  return 0;
}
