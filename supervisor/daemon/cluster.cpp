// cluster.cpp — berthd's cluster membership: the node spec from the
// machine and the flags, and the node agent running on a thread of its own
// with the ClusterDriver over the node's Service.
#include "cluster.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <thread>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/cluster/agent.h"
#include "berth/supervisor/cluster_driver.h"
#include "berth/supervisor/record.h"

namespace berth::supervisor {

namespace {

// "k=v,k2=v2" -> pairs; errors name the option and the item.
Result<std::vector<std::pair<std::string, std::string>>> pairs(const std::string& s, const char* option) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    std::string kv = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error::msg(std::string(option) + ": expected key=value, got \"" + kv + "\"");
    out.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

// The machine's CPUs, memory and the state directory's file system.
cluster::Resources machine(const std::string& state_dir) {
  cluster::Resources r;
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  r.cpu_milli = cpus > 0 ? cpus * 1000 : 1000;
  if (pages > 0 && page > 0) r.memory_mb = static_cast<int64_t>((static_cast<uint64_t>(pages) * static_cast<uint64_t>(page)) >> 20);
  // The state directory may not exist yet: its nearest existing parent
  // is on the same file system.
  std::string dir = state_dir;
  struct statvfs fs {};
  while (::statvfs(dir.c_str(), &fs) != 0 && dir.size() > 1) {
    size_t slash = dir.rfind('/');
    dir = slash == 0 || slash == std::string::npos ? "/" : dir.substr(0, slash);
  }
  r.disk_gb = static_cast<int64_t>((static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize) >> 30);
  return r;
}

Status apply_capacity(cluster::Resources& r, const std::string& s) {
  for (const auto& [k, v] : BERTH_TRY(pairs(s, "--capacity"))) {
    if (k == "cpus") {
      char* end = nullptr;
      double c = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || c <= 0 || c > 100000) return Error::msg("--capacity: cpus: expected a positive number, got \"" + v + "\"");
      r.cpu_milli = std::llround(c * 1000);
    } else if (k == "memory" || k == "disk") {
      uint64_t b = BERTH_TRY_CTX(parse_size(v), "--capacity: " + k);
      if (k == "memory") r.memory_mb = static_cast<int64_t>(b >> 20);
      else r.disk_gb = static_cast<int64_t>(b >> 30);
    } else {
      return Error::msg("--capacity: unknown resource \"" + k + "\" (expected cpus, memory or disk)");
    }
  }
  return ok();
}

class Node final : public ClusterNode {
public:
  Node(cluster::EtcdConfig cfg, cluster::Keys keys, cluster::NodeSpec spec, cluster::AgentOptions ao,
       ClusterDriverOptions dopt)
      : cfg_(std::move(cfg)),
        keys_(std::move(keys)),
        spec_(std::move(spec)),
        ao_(std::move(ao)),
        dopt_(std::move(dopt)) {}
  void start(Service& svc) override {
    driver_ = std::make_unique<ClusterDriver>(svc, dopt_);
    if (auto t = driver_->templates()) spec_.templates = *t;
    std::sort(spec_.templates.begin(), spec_.templates.end());
    if (auto n = driver_->networks()) spec_.networks = *n;
    std::sort(spec_.networks.begin(), spec_.networks.end());
    log::info("cluster: node " + spec_.id + " (" + spec_.capacity.str() + ", " + std::to_string(spec_.templates.size()) +
              " templates) joining");
    if (ao_.fence) {
      cluster::FenceBudget fb = *ao_.fence;
      fb.lease_ttl_ms = ao_.lease_ttl * 1000;
      log::info("cluster: self-fence " + std::to_string(fb.after_ms) + " ms after the last renewal, all stopped by " +
                std::to_string(fb.deadline_ms()) + " ms; the orchestrator's grace must be at least " +
                std::to_string(fb.min_grace_ms()) + " ms (it waits that long for this node if its --grace is shorter)");
    }
    agent_ = std::make_unique<cluster::NodeAgent>(keys_, spec_, *driver_, ao_);
    agent_ptr_ = agent_.get();
    host_ = std::make_unique<cluster::AgentHost>(cfg_, keys_, std::vector<cluster::NodeAgent*>{agent_.get()}, 1);
    thread_ = std::thread([this] {
      // A refusal (TLS, the user or its role) is mended on etcd's side:
      // try again, 5 s doubling to 60 s, serving the local API meanwhile.
      long backoff = 5000;
      while (!stop_) {
        auto st = host_->run(stop_, false);
        if (st || stop_) break;
        log::error("cluster: " + st.error().what() + "; trying again in " + std::to_string(backoff / 1000) + " s");
        cluster::sleep_unless(backoff, &stop_);
        backoff = std::min(backoff * 2, 60000L);
      }
    });
  }
  std::optional<std::string> handing_off_to(const std::string& id) const override {
    cluster::NodeAgent* a = agent_ptr_.load();
    return a ? a->handing_off_to(id) : std::nullopt;
  }
  ~Node() override {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

private:
  cluster::EtcdConfig cfg_;
  cluster::Keys keys_;
  cluster::NodeSpec spec_;
  cluster::AgentOptions ao_;
  ClusterDriverOptions dopt_;
  std::unique_ptr<ClusterDriver> driver_;
  std::unique_ptr<cluster::NodeAgent> agent_;
  std::atomic<cluster::NodeAgent*> agent_ptr_{nullptr};  // for the API's threads
  std::unique_ptr<cluster::AgentHost> host_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sets the options given in `a`, leaving the others as they are.
void apply(const flags::Args& a, ClusterOptions& o) {
  for (auto [flag, to] : {std::pair{"cluster", &o.etcd},
                          {"node-id", &o.node_id},
                          {"labels", &o.labels},
                          {"capacity", &o.capacity},
                          {"cluster-prefix", &o.prefix},
                          {"node-address", &o.address},
                          {"etcd-user", &o.etcd_user}})
    if (a.has(flag)) *to = a.get(flag);
  for (auto [flag, to] :
       {std::pair{"etcd-cacert", &o.etcd_cacert}, {"etcd-cert", &o.etcd_cert}, {"etcd-key", &o.etcd_key}})
    if (a.has(flag)) *to = fs::absolute(a.get(flag));
  for (auto [flag, to] : {std::pair{"lease-ttl", &o.lease_ttl},
                          {"usage-interval", &o.usage_s},
                          {"resync-interval", &o.resync_s},
                          {"fence-after", &o.fence_after_s},
                          {"fence-stop-timeout", &o.fence_stop_s}})
    *to = a.integer(flag, *to);
}

// Applies a --cluster-config file: KEY="value" lines, as berthd's
// container records are written. Each line is read as the flag it names,
// through the same parser, so a file and a command line are checked alike.
Status read_config(const std::string& path, ClusterOptions& o) {
  auto text = BERTH_TRY_CTX(fs::read_file(path, 1 << 20), "--cluster-config");
  std::vector<flags::Flag> known = cluster_flags();
  std::erase_if(known, [](const flags::Flag& f) { return f.names[0] == "cluster-config"; });
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    ++line_no;
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? text.size() : nl + 1;
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::string where = path + ": line " + std::to_string(line_no);
    size_t eq = line.find('=');
    if (eq == std::string::npos) return Error::msg(where + ": expected KEY=\"value\"");
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (value.empty()) continue;  // KEY="": left unset, as a template writes it
    std::string flag = "--";
    for (char c : key) flag += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key == "ETCD") flag = "--cluster";
    bool upper = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return (c >= 'A' && c <= 'Z') || c == '_'; });
    if (!upper || key == "CLUSTER") return Error::msg(where + ": " + key + ": unknown key");
    auto parsed = flags::Args::parse({flag + "=" + value}, known);
    if (!parsed && parsed.error().message().starts_with("unknown flag"))
      return Error::msg(where + ": " + key + ": unknown key");
    if (!parsed) return Error::msg(where + ": " + key + ": " + parsed.error().message());
    apply(*parsed, o);
  }
  return ok();
}

}  // namespace

std::vector<flags::Flag> cluster_flags() {
  using flags::Flag;
  return {Flag::text({"cluster"}),
          Flag::text({"node-id"}),
          Flag::text({"labels"}),
          Flag::text({"capacity"}),
          Flag::text({"cluster-prefix"}),
          Flag::text({"node-address"}),
          Flag::integer({"lease-ttl"}, 2, 1e9),
          Flag::integer({"usage-interval"}, 1, 1e9),
          Flag::integer({"resync-interval"}, 1, 1e9),
          Flag::integer({"fence-after"}, 0, 1e9),
          Flag::integer({"fence-stop-timeout"}, 1, 1e9),
          Flag::text({"etcd-cacert"}),
          Flag::text({"etcd-cert"}),
          Flag::text({"etcd-key"}),
          Flag::text({"etcd-user"}),
          Flag::text({"cluster-config"})};
}

Status apply_cluster_flags(const flags::Args& a, ClusterOptions& o) {
  for (const auto& file : a.all("cluster-config")) BERTH_TRY(read_config(file, o));
  apply(a, o);
  return ok();
}

Result<std::unique_ptr<ClusterNode>> make_cluster_node(const ClusterOptions& o, const Layout& layout,
                                                       const std::string& api_socket) {
  if (o.etcd.empty()) {
    if (!o.node_id.empty()) return Error::msg("--node-id: needs --cluster ETCD_URLS");
    return std::unique_ptr<ClusterNode>();
  }
  if (!cluster::valid_name(o.node_id))
    return Error::msg("--node-id: expected 1-63 characters of [a-z0-9_-] starting with a letter or digit, got \"" + o.node_id + "\"");
  if (o.lease_ttl < 2) return Error::msg("--lease-ttl: expected at least 2 seconds");
  if (o.usage_s <= 0) return Error::msg("--usage-interval: expected a positive number of seconds");
  if (o.resync_s <= 0) return Error::msg("--resync-interval: expected a positive number of seconds");
  if (o.fence_after_s < 0) return Error::msg("--fence-after: expected a positive number of seconds");
  if (o.fence_stop_s <= 0) return Error::msg("--fence-stop-timeout: expected a positive number of seconds");
  if (o.prefix.empty() || o.prefix.front() != '/' || o.prefix.back() != '/')
    return Error::msg("--cluster-prefix: expected a key prefix such as /berth/, got \"" + o.prefix + "\"");
  cluster::EtcdConfig cfg;
  cfg.credentials = BERTH_TRY(cluster::etcd_credentials({o.etcd_cacert, o.etcd_cert, o.etcd_key, o.etcd_user}));
  cfg.endpoints = BERTH_TRY(cluster::etcd_endpoints(o.etcd, cfg.credentials.get(), "--cluster"));
  // A member that does not answer within a third of the TTL (the renewal
  // period) is given up for the next one, so one hung member cannot cost
  // the node its lease.
  cfg.timeout_ms = std::clamp(o.lease_ttl * 1000 / 3, 1000L, 5000L);
  cluster::NodeSpec spec;
  spec.id = o.node_id;
  for (const auto& [k, v] : BERTH_TRY(pairs(o.labels, "--labels"))) spec.labels[k] = v;
  spec.capacity = machine(layout.state_dir);
  BERTH_TRY(apply_capacity(spec.capacity, o.capacity));
  spec.address = o.address.empty() ? "unix:" + api_socket : o.address;
  if (spec.address.rfind("unix:", 0) != 0) {
    BERTH_TRY_CTX(parse_host_port(spec.address), "--node-address");
    if (o.peer_tls.cert.empty() || o.peer_tls.key.empty() || o.peer_tls.ca.empty())
      return Error::msg("--node-address " + spec.address +
                        ": needs --listen-tcp with --tls-cert, --tls-key and --tls-client-ca (nodes copy a migrating "
                        "container's disk from each other over mutual TLS)");
  }
  ClusterDriverOptions dopt;
  dopt.peer.tls = o.peer_tls;
  dopt.peer.tls.cert_flag = "--tls-cert";
  dopt.peer.tls.key_flag = "--tls-key";
  dopt.peer.tls.ca_flag = "--tls-client-ca";
  dopt.tmp_dir = layout.state_dir;
  dopt.fence_stop_timeout = static_cast<int>(o.fence_stop_s);
  cluster::AgentOptions ao;
  ao.lease_ttl = o.lease_ttl;
  ao.usage_ms = o.usage_s * 1000;
  ao.resync_ms = o.resync_s * 1000;
  // Self-fencing: stop the cluster's containers once the lease may be
  // gone; a halt gets the stop timeout, then a second for the kill.
  cluster::FenceBudget fb;
  fb.after_ms = (o.fence_after_s > 0 ? o.fence_after_s : o.lease_ttl) * 1000;
  fb.stop_ms = (o.fence_stop_s + 1) * 1000;
  ao.fence = fb;
  ao.renewal_file = fs::join(layout.run_dir, "cluster-renewed");
  return std::unique_ptr<ClusterNode>(
      std::make_unique<Node>(std::move(cfg), cluster::Keys(o.prefix), std::move(spec), ao, std::move(dopt)));
}

}  // namespace berth::supervisor
