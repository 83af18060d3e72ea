// berthd — the node supervisor: constructs the registry-backed service,
// re-adopts running containers, and serves the API until SIGTERM.
// Stopping berthd never stops a container.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <utility>  // before Asio: Boost 1.74 uses std::exchange without it

#include <boost/asio.hpp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <istream>

#include "berth/base/flags.h"
#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/base/sd_notify.h"
#include "berth/supervisor/access.h"
#include "berth/supervisor/node_service.h"
#include "berth/supervisor/operations.h"
#include "berth/supervisor/unix_socket.h"
#include "cluster.h"
#include "http_server.h"
#include "tls_context.h"

namespace asio = boost::asio;
using namespace berth;
using namespace berth::supervisor;

namespace {

/// The service's event-loop side: monitor connections and timers.
class LoopHost final : public Host {
public:
  /// `exits` runs the monitors' exit reports only: the workers may all be
  /// stops waiting for one (with the reports queued behind them on the
  /// same pool, 16 concurrent stops each waited out their 10 s limit).
  LoopHost(asio::io_context& io, asio::thread_pool& pool, asio::thread_pool& exits)
      : io_(io), pool_(pool), exits_(exits) {}
  void bind(NodeService* s) { svc_ = s; }

  void watch(const std::string& name, UniqueFd conn) override {
    int fd = conn.release();
    asio::post(io_, [this, name, fd] {
      auto sock = std::make_shared<asio::local::stream_protocol::socket>(io_);
      sock->assign(asio::local::stream_protocol(), fd);
      auto buf = std::make_shared<asio::streambuf>(65536);
      asio::async_read_until(*sock, *buf, '\n', [this, name, sock, buf](boost::system::error_code ec, size_t) {
        json::Value exit;  // null: the monitor hung up without reporting
        if (!ec) {
          std::istream in(buf.get());
          std::string line;
          std::getline(in, line);
          if (auto v = json::parse(line); v && v->find("exit")) exit = *v->find("exit");
        }
        asio::post(exits_, [this, name, exit] { svc_->on_exit(name, exit); });
      });
    });
  }

  void later(std::chrono::milliseconds delay, std::function<void()> fn) override {
    auto t = std::make_shared<asio::steady_timer>(io_, delay);
    t->async_wait([this, t, fn = std::move(fn)](boost::system::error_code) { asio::post(pool_, fn); });
  }

private:
  asio::io_context& io_;
  asio::thread_pool& pool_;
  asio::thread_pool& exits_;
  NodeService* svc_ = nullptr;
};

/// The listening socket: systemd's (socket activation) or our own.
Result<int> api_listener(const std::string& path) {
  const char* fds = std::getenv("LISTEN_FDS");
  const char* pid = std::getenv("LISTEN_PID");
  bool ours = fds && pid && std::atoi(fds) >= 1 && std::atoi(pid) == ::getpid();
  for (const char* v : {"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"}) ::unsetenv(v);
  if (ours) {
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
    return 3;
  }
  BERTH_TRY(fs::mkdir_p(path.substr(0, path.rfind('/')), 0711));
  UniqueFd s = BERTH_TRY(listen_unix(path, 0660));
  // Members of group berth may use the API; without the group, root only.
  if (group* g = ::getgrnam("berth")) {
    if (::chown(path.c_str(), 0, g->gr_gid) < 0) return Error::os("chown " + path);
  }
  return s.release();
}

/// The TCP listener's options: none, or --listen-tcp with all three files.
Result<std::optional<TcpApiOptions>> tcp_api_options(const std::string& listen, TcpApiOptions o) {
  if (listen.empty()) {
    for (auto [flag, value] : {std::pair{"--tls-cert", &o.cert}, {"--tls-key", &o.key}, {"--tls-client-ca", &o.client_ca}})
      if (!value->empty()) return Error::msg(std::string(flag) + " without --listen-tcp");
    return std::optional<TcpApiOptions>();
  }
  for (auto [flag, value] : {std::pair{"--tls-cert", &o.cert}, {"--tls-key", &o.key}, {"--tls-client-ca", &o.client_ca}})
    if (value->empty()) return Error::msg("--listen-tcp needs " + std::string(flag) + " (the API over TCP is mutual TLS only)");
  o.address = BERTH_TRY_CTX(parse_listen_address(listen), "--listen-tcp");
  return std::optional<TcpApiOptions>(std::move(o));
}

void usage(FILE* out) {
  std::fprintf(out,
               "usage: berthd [--state-dir DIR] [--run-dir DIR] [--socket PATH] [--cgroup-parent NAME]\n"
               "              [--monitor PATH] [--lxcfs PATH|none] [--subuid FILE] [--subgid FILE]\n"
               "              [--log-format text|json] [--debug] [--idle-timeout S] [--max-connections N]\n"
               "              [--max-execs-per-client N] [--event-backlog BYTES]\n"
               "              [--max-client-connections N] [--max-client-rate N]\n"
               "              [--listen-tcp ADDR:PORT --tls-cert FILE --tls-key FILE --tls-client-ca FILE]\n"
               "              [--cluster-config FILE] [--cluster ETCD_URLS --node-id ID [--labels k=v,...] [--capacity cpus=N,memory=SIZE,disk=SIZE]\n"
               "               [--node-address ADDR] [--cluster-prefix /berth/] [--lease-ttl S] [--usage-interval S]\n"
               "               [--resync-interval S] [--fence-after S] [--fence-stop-timeout S]\n"
               "               [--etcd-cacert FILE] [--etcd-cert FILE --etcd-key FILE] [--etcd-user NAME[:PASSWORD]]]\n");
}

// On exit: the containers' cgroup parent (each level of it, deepest
// first) in every hierarchy, once no container's cgroup is left in it.
// rmdir refuses a cgroup that still has children, so running containers
// keep theirs; an idle node leaves nothing, and the next start makes it
// again.
void remove_idle_cgroup_parent(const std::string& parent) {
  const std::string base = "/sys/fs/cgroup";
  std::vector<std::string> roots{base};
  // Hybrid and v1: each hierarchy is mounted below the tmpfs at /sys/fs/cgroup.
  if (!fs::exists(base + "/cgroup.controllers"))
    if (auto names = fs::list_dir(base))
      for (const auto& n : *names) roots.push_back(base + "/" + n);
  for (const auto& root : roots) {
    std::string rel = parent;
    while (!rel.empty() && ::rmdir((root + "/" + rel).c_str()) == 0) {
      size_t slash = rel.rfind('/');
      rel.resize(slash == std::string::npos ? 0 : slash);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  NodeOptions o;
  std::string socket_path;
  log::Format fmt = log::Format::text;
  bool debug = false;
  ClusterOptions cluster_opts;
  std::string listen_tcp;
  TcpApiOptions tcp;
  ApiLimits limits;
  using flags::Flag;
  std::vector<Flag> known = {Flag::text({"state-dir"}),
                             Flag::text({"run-dir"}),
                             Flag::text({"socket"}),
                             Flag::text({"cgroup-parent"}),
                             Flag::text({"monitor"}),
                             Flag::text({"lxcfs"}),
                             Flag::text({"subuid"}),
                             Flag::text({"subgid"}),
                             Flag::text({"log-format"}),
                             Flag::boolean({"debug"}),
                             Flag::text({"listen-tcp"}),
                             Flag::integer({"idle-timeout"}, 1, 1e9),
                             Flag::integer({"max-connections"}, 1, 1e9),
                             Flag::integer({"max-execs-per-client"}, 1, 1e9),
                             Flag{{"event-backlog"}, Flag::Kind::size, 1, 1ull << 40},
                             Flag::integer({"max-client-connections"}, 1, 1e9),
                             Flag::integer({"max-client-rate"}, 1, 1e9),
                             Flag::text({"tls-cert"}),
                             Flag::text({"tls-key"}),
                             Flag::text({"tls-client-ca"})};
  for (auto& f : cluster_flags()) known.push_back(std::move(f));
  auto args = flags::Args::parse(argc, argv, 1, known);
  if (!args && args.error().code() == flags::kHelpAsked) {
    usage(stdout);
    return 0;
  }
  if (args && !args->positional().empty()) args = Error::msg("unexpected argument \"" + args->positional()[0] + "\"");
  if (!args) {
    std::fprintf(stderr, "berthd: %s\n", args.error().what().c_str());
    usage(stderr);
    return 2;
  }
  const flags::Args& a = *args;
  for (auto [flag, to] : {std::pair{"state-dir", &o.layout.state_dir},
                          {"run-dir", &o.layout.run_dir},
                          {"socket", &socket_path},
                          {"monitor", &o.monitor_binary},
                          {"subuid", &o.subuid},
                          {"subgid", &o.subgid},
                          {"tls-cert", &tcp.cert},
                          {"tls-key", &tcp.key},
                          {"tls-client-ca", &tcp.client_ca}})
    if (a.has(flag)) *to = fs::absolute(a.get(flag));
  for (auto [flag, to] :
       {std::pair{"cgroup-parent", &o.layout.cgroup_parent}, {"lxcfs", &o.lxcfs}, {"listen-tcp", &listen_tcp}})
    if (a.has(flag)) *to = a.get(flag);
  std::string format = a.get("log-format", "text");
  if (format != "text" && format != "json") {
    std::fprintf(stderr, "berthd: --log-format: expected text or json, got \"%s\"\n", format.c_str());
    return 2;
  }
  fmt = format == "json" ? log::Format::json : log::Format::text;
  debug = a.has("debug");
  limits.idle = std::chrono::seconds(a.integer("idle-timeout", limits.idle.count()));
  for (auto [flag, to] : {std::pair{"max-connections", &limits.max_connections},
                          {"max-execs-per-client", &limits.execs_per_client},
                          {"max-client-connections", &limits.tcp_connections_per_client},
                          {"max-client-rate", &limits.tcp_requests_per_second}})
    *to = static_cast<size_t>(a.integer(flag, static_cast<int64_t>(*to)));
  limits.event_backlog = static_cast<size_t>(a.size("event-backlog", limits.event_backlog));
  if (auto st = apply_cluster_flags(a, cluster_opts); !st) {
    std::fprintf(stderr, "berthd: %s\n", st.error().what().c_str());
    return 2;
  }
  log::configure("", fmt, debug);
  // Monitors and containers must not inherit systemd's socket.
  sd::take_from_environment();
  if (o.monitor_binary.empty()) {
    // berth-monitor sits next to berthd (installed or in the build tree).
    char self[4096];
    ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = n > 0 ? std::string(self, static_cast<size_t>(n)) : std::string("/usr/bin/berthd");
    dir = dir.substr(0, dir.rfind('/'));
    o.monitor_binary = fs::exists(dir + "/berth-monitor") ? dir + "/berth-monitor" : dir + "/../monitor/berth-monitor";
  }
  if (socket_path.empty()) socket_path = o.layout.api_socket();
  auto tcp_api = tcp_api_options(listen_tcp, tcp);
  if (!tcp_api) {
    log::error("berthd: " + tcp_api.error().what());
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  if (*tcp_api) cluster_opts.peer_tls = {tcp.cert, tcp.key, tcp.client_ca};
  auto cluster = make_cluster_node(cluster_opts, o.layout, socket_path);
  if (!cluster) {
    log::error("berthd: " + cluster.error().what());
    return 2;
  }

  asio::io_context io;
  // Operations, reads and execs each on threads of their own: 16 long
  // stops or 64 execs leave list and status answering.
  asio::thread_pool pool(16);
  asio::thread_pool reads(4);
  asio::thread_pool execs(64);
  asio::thread_pool exits(2);
  ApiPools pools{reads, pool, execs};
  EventBus events;
  // berthd's own log lines (not debug ones) are events too ("log").
  log::set_observer([&events](log::Level l, std::string_view m) {
    if (l == log::Level::debug) return;
    events.publish("log", "", json::Value(json::Object{{"level", log::level_name(l)}, {"message", std::string(m)}}));
  });
  Defer no_observer([] { log::set_observer(nullptr); });
  Operations ops;
  // Who may use the API beside root and the groups: trusted certificates
  // and the projects' limits.
  TrustStore trust;
  if (auto st = trust.load(o.layout.state_dir + "/trust.json"); !st) {
    log::error("berthd: " + st.error().what());
    return 2;
  }
  // Events name their container's project, so that a project-bound client
  // hears only of its own.
  events.set_project_of([layout = o.layout](const std::string& name) -> std::string {
    if (!validate_name(name)) return "";
    auto text = fs::read_file(layout.config(name));
    if (!text) return "";
    auto r = parse_record(*text);
    return r ? r->project : "";
  });
  // Which migrations away from this node are under way (node certificates
  // export only those, to their destination).
  HandOffs handoffs;
  if (*cluster) handoffs = [node = cluster->get()](const std::string& id) { return node->handing_off_to(id); };
  LoopHost host(io, pool, exits);
  NodeService svc(o, events, host);
  host.bind(&svc);

  if (*tcp_api) {
    if (auto st = serve_api_tcp(io, pools, **tcp_api, svc, ops, events, trust, handoffs, limits); !st) {
      log::error("berthd: " + st.error().what());
      return 1;
    }
  }
  auto fd = api_listener(socket_path);
  if (!fd) {
    log::error("berthd: " + fd.error().what());
    return 1;
  }
  svc.reconcile();
  serve_api(io, pools, *fd, svc, ops, events, trust, handoffs, limits);
  if (*cluster) (*cluster)->start(svc);

  asio::signal_set sigs(io, SIGTERM, SIGINT);
  sigs.async_wait([&](boost::system::error_code, int) {
    sd::notify("STOPPING=1");
    io.stop();
  });
  // Watchdog pings at half the interval systemd expects.
  asio::steady_timer dog(io);
  std::function<void()> ping;
  long usec = sd::watchdog_usec();
  ping = [&] {
    sd::notify("WATCHDOG=1");
    dog.expires_after(std::chrono::microseconds(usec / 2));
    dog.async_wait([&](boost::system::error_code ec) {
      if (!ec) ping();
    });
  };
  if (usec > 0) ping();
  log::info("berthd: serving " + socket_path + (*tcp_api ? " and " + to_string((*tcp_api)->address) + " (mutual TLS)" : ""));
  sd::notify("READY=1\nSTATUS=serving");
  asio::post(pool, [&svc] { svc.autostart_at_boot(); });
  io.run();
  cluster->reset();
  // Containers keep running: their monitors are not ours to stop.
  for (asio::thread_pool* p : {&pool, &reads, &execs}) {
    p->stop();
    p->join();
  }
  exits.stop();
  exits.join();
  remove_idle_cgroup_parent(o.layout.cgroup_parent);
  return 0;
}
