// berth-monitor — one per running system container: its parent and
// subreaper, holder of its console pty and log, recorder of its exit
// status. berthd spawns it in a session of its own, it forks away from
// berthd, and berthd talks to it over a unix socket, so a restart of
// berthd never touches it.
//
// Protocol (monitor.sock, one line each): on connect the monitor sends
// {"pid":INIT,"monitor":PID,"started":EPOCH}; when the init exits it sends
// {"exit":{...}} and closes. A client that sends "attach\n" gets the console:
// bytes both ways until it hangs up. A client that sends "exec JSON\n" gets
// a command on a pty (sessions.h): frames both ways, the exit status last.
//
// The container's sysinfo(2) calls come to the monitor as seccomp user
// notifications (sysinfo.h): the runtime sends each notify fd to the
// seccomp socket beside monitor.sock.
//
// Once the container runs, the monitor re-executes itself with --serve:
// the steady-state process holds only the serving loop's pages, which is
// what each running container costs.
//
// The same binary, as `berth-monitor exec-helper ...`, is berthd's exec
// with collected output (see exec_helper below).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "berth/base/fs.h"
#include "berth/base/json.h"
#include "berth/base/log.h"
#include "berth/runtime/container.h"
#include "berth/runtime/sealed_exe.h"
#include "berth/supervisor/exec.h"
#include "berth/supervisor/unix_socket.h"
#include "residency.h"
#include "sessions.h"
#include "sysinfo.h"

using namespace berth;
using namespace berth::supervisor;

namespace {

int64_t monotonic_ms() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

struct Args {
  std::string name, bundle, runtime_root, socket, exit_file, log;
  std::string seccomp_socket;  // the bundle's linux.seccomp.listenerPath
  int ready_fd = -1;
  bool detach = false;  // fork once, the first process exiting (see main)
  // Set when the monitor re-executes itself to serve (see main).
  bool serve = false;
  pid_t init_pid = 0;
  time_t started = 0;
  int listen_fd = -1, master_fd = -1, seccomp_fd = -1;
};

constexpr off_t kLogMax = 1 << 20;  // console.log rotates to console.log.1 past this
constexpr size_t kMaxRequest = 1 << 16;  // a client's request line ("exec" carries args and env)

bool parse_args(int argc, char** argv, Args& a) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--name") a.name = v;
    else if (k == "--bundle") a.bundle = v;
    else if (k == "--runtime-root") a.runtime_root = v;
    else if (k == "--socket") a.socket = v;
    else if (k == "--exit-file") a.exit_file = v;
    else if (k == "--log") a.log = v;
    else if (k == "--seccomp-socket") a.seccomp_socket = v;
    else if (k == "--ready-fd") a.ready_fd = std::atoi(v.c_str());
    else if (k == "--detach") a.detach = v == "1";
    else if (k == "--serve") a.serve = v == "1";
    else if (k == "--init-pid") a.init_pid = std::atoi(v.c_str());
    else if (k == "--started") a.started = std::atol(v.c_str());
    else if (k == "--listen-fd") a.listen_fd = std::atoi(v.c_str());
    else if (k == "--master-fd") a.master_fd = std::atoi(v.c_str());
    else if (k == "--seccomp-fd") a.seccomp_fd = std::atoi(v.c_str());
    else return false;
  }
  return !a.name.empty() && !a.bundle.empty() && !a.runtime_root.empty() && !a.socket.empty() &&
         !a.exit_file.empty() && !a.log.empty();
}

struct Client {
  UniqueFd fd;
  bool attached = false;
  std::string in;  // partial command line
};

class Monitor {
public:
  explicit Monitor(const Args& a)
      : a_(a), g_{.root = a.runtime_root}, listen_(a.listen_fd), master_(a.master_fd),
        sessions_(g_, a.name, a.bundle), sysinfo_(a.seccomp_fd), init_(a.init_pid), started_(a.started) {}

  /// Replaces this process image with a fresh one that only serves: the
  /// create path's heap and code pages are dropped, while the children,
  /// the subreaper flag and the fds passed on survive execve. Returns only
  /// when the exec fails.
  void reexec_to_serve() {
    ::fcntl(listen_.get(), F_SETFD, 0);
    ::fcntl(master_.get(), F_SETFD, 0);
    ::fcntl(sysinfo_.listener(), F_SETFD, 0);
    std::vector<std::string> args = {"berth-monitor", "--serve", "1", "--name", a_.name, "--bundle", a_.bundle,
                                     "--runtime-root", a_.runtime_root, "--socket", a_.socket,
                                     "--exit-file", a_.exit_file, "--log", a_.log,
                                     "--init-pid", std::to_string(init_), "--started", std::to_string(started_),
                                     "--listen-fd", std::to_string(listen_.get()),
                                     "--master-fd", std::to_string(master_.get()),
                                     "--seccomp-socket", a_.seccomp_socket,
                                     "--seccomp-fd", std::to_string(sysinfo_.listener())};
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    log::warn("re-exec to serve: " + std::string(std::strerror(errno)) + "; serving from this image");
    ::fcntl(listen_.get(), F_SETFD, FD_CLOEXEC);
    ::fcntl(master_.get(), F_SETFD, FD_CLOEXEC);
    ::fcntl(sysinfo_.listener(), F_SETFD, FD_CLOEXEC);
  }

  /// Creates and starts the container; reports to the ready fd.
  Status start() {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return Error::os("socketpair");
    UniqueFd ours(sv[0]), theirs(sv[1]);
    listen_ = BERTH_TRY(listen_unix(a_.socket, 0600));
    // Before create: the runtime sends the init's notify fd during create,
    // to wait in the backlog until the serving loop accepts it.
    if (!a_.seccomp_socket.empty()) BERTH_TRY(sysinfo_.listen(a_.seccomp_socket));
    runtime::CreateOptions o;
    o.id = a_.name;
    o.bundle = a_.bundle;
    o.console_fd = theirs.get();
    BERTH_TRY_CTX(runtime::create(g_, o), "create");
    theirs.reset();
    auto master = recv_fd(ours.get());
    if (!master) return cleanup_after(std::move(master).error().wrap("console pty"));
    master_ = std::move(*master);
    ::fcntl(master_.get(), F_SETFL, ::fcntl(master_.get(), F_GETFL) | O_NONBLOCK);
    auto started = runtime::start(g_, a_.name);
    if (!started) return cleanup_after(std::move(started).error().wrap("start"));
    auto st = runtime::load_state(g_, a_.name);
    if (!st) return cleanup_after(std::move(st).error());
    init_ = st->pid;
    started_ = std::time(nullptr);
    return {};
  }

  /// Serves clients and the console until the init exits; returns its status.
  int run() {
    // Only now: the container's init, cloned by create(), must not inherit
    // a blocked SIGCHLD or an ignored SIGPIPE.
    ::signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
    int status = reap(sfd.get());  // an init that died before the mask was set
    // The guest's boot (console output, sysinfo calls, berthd asking)
    // faults back pages of the binary, each with its fault-around. Once
    // nothing has happened for a second they are unmapped again, so an
    // idle container's monitor keeps only what its idle loop runs; after
    // later activity, again once it has been quiet for a second and a
    // minute has passed since the last time.
    bool dropped = false;             // nothing has happened since the last drop
    int64_t last_drop = INT64_MIN / 2;  // ms, CLOCK_MONOTONIC
    while (status < 0) {
      std::vector<pollfd> p = {{sfd.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}, {master_.get(), POLLIN, 0}};
      for (auto& c : clients_) p.push_back({c.fd.get(), POLLIN, 0});
      size_t nclients = clients_.size(), first_session = p.size();
      sessions_.fill(p);
      size_t first_sysinfo = p.size();
      sysinfo_.fill(p);
      int timeout = dropped ? -1 : static_cast<int>(std::max<int64_t>(1000, last_drop + 60000 - monotonic_ms()));
      int n = ::poll(p.data(), p.size(), timeout);
      if (n < 0) continue;
      if (n == 0) {
        if (auto d = drop_clean_exe_pages(); !d) log::warn("unmap pages of the binary: " + d.error().what());
        dropped = true;
        last_drop = monotonic_ms();
        continue;
      }
      dropped = false;
      if (p[0].revents) status = reap(sfd.get());
      sysinfo_.handle(p.data() + first_sysinfo, started_);
      if (p[2].revents & POLLIN) pump_console();
      sessions_.handle(p.data() + first_session);  // before clients: serving one may start a session
      for (size_t i = 0; i < nclients; ++i)  // the clients polled, not one accepted below
        if (p[3 + i].revents) serve_client(clients_[i]);
      std::erase_if(clients_, [](const Client& c) { return !c.fd; });
      sessions_.sweep();
      if (p[1].revents & POLLIN) accept_client();
    }
    pump_console();
    return status;
  }

  /// Records the exit, removes the runtime's container, tells the clients.
  void finish(int status) {
    json::Value e = json::Value::object();
    if (WIFEXITED(status)) e.set("code", WEXITSTATUS(status));
    if (WIFSIGNALED(status)) e.set("signal", WTERMSIG(status));
    e.set("time", log::rfc3339_now());
    auto w = fs::write_file_atomic(a_.exit_file, json::dump(e) + "\n", 0644);
    if (!w) log::error("exit status: " + w.error().what());
    auto rm = runtime::remove(g_, a_.name, true);
    if (!rm) log::error("delete: " + rm.error().what());
    json::Value line = json::Value::object();
    line.set("exit", std::move(e));
    std::string text = json::dump(line) + "\n";
    ::unlink(a_.socket.c_str());
    if (!a_.seccomp_socket.empty()) ::unlink(a_.seccomp_socket.c_str());
    for (auto& c : clients_)
      if (!c.attached) (void)write_all(c.fd.get(), text);
  }

private:
  Status cleanup_after(Error e) {
    (void)runtime::remove(g_, a_.name, true);
    return e;
  }

  int reap(int sfd) {
    signalfd_siginfo si;
    while (::read(sfd, &si, sizeof si) == sizeof si) {
    }
    int result = -1;
    for (;;) {
      int status;
      pid_t p = ::waitpid(-1, &status, WNOHANG);
      if (p <= 0) break;
      if (p == init_) result = status;
      else sessions_.reaped(p, status);
    }
    return result;
  }

  std::string hello() const {
    json::Value h = json::Value::object();
    h.set("pid", init_);
    h.set("monitor", ::getpid());
    h.set("started", static_cast<int64_t>(started_));
    return json::dump(h) + "\n";
  }

  void accept_client() {
    UniqueFd c(::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!c) return;
    if (!write_all(c.get(), hello())) return;
    clients_.push_back(Client{std::move(c)});
  }

  void serve_client(Client& c) {
    char buf[4096];
    ssize_t n = ::read(c.fd.get(), buf, sizeof buf);
    if (n <= 0) return c.fd.reset();
    if (c.attached) {
      (void)write_all(master_.get(), std::string_view(buf, static_cast<size_t>(n)));
      return;
    }
    c.in.append(buf, static_cast<size_t>(n));
    if (c.in.size() > kMaxRequest) return c.fd.reset();
    size_t nl = c.in.find('\n');
    if (nl == std::string::npos) return;
    if (c.in.starts_with("exec ")) {
      sessions_.start(std::move(c.fd), c.in.substr(5, nl - 5), c.in.substr(nl + 1));
      return;
    }
    if (c.in.substr(0, nl) == "attach") {
      c.attached = true;
      std::string rest = c.in.substr(nl + 1);
      if (!rest.empty()) (void)write_all(master_.get(), rest);
    }
    c.in.clear();
  }

  void pump_console() {
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(master_.get(), buf, sizeof buf);
      if (n <= 0) return;
      std::string_view data(buf, static_cast<size_t>(n));
      append_log(data);
      for (auto& c : clients_)
        if (c.attached && !write_all(c.fd.get(), data)) c.fd.reset();
    }
  }

  void append_log(std::string_view data) {
    if (!log_) log_ = UniqueFd(::open(a_.log.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (!log_) return;
    (void)write_all(log_.get(), data);
    struct stat st;
    if (::fstat(log_.get(), &st) == 0 && st.st_size > kLogMax) {
      ::rename(a_.log.c_str(), (a_.log + ".1").c_str());
      log_.reset();
    }
  }

  Args a_;
  runtime::Globals g_;
  UniqueFd listen_, master_, log_;
  std::vector<Client> clients_;
  Sessions sessions_;
  SysinfoServer sysinfo_;
  pid_t init_ = 0;
  time_t started_ = 0;
};

// berth-monitor exec-helper RUNTIME_ROOT BUNDLE NAME -- ARGS...: berthd's
// exec with collected output. berthd spawns it with pipes for stdout and
// stderr (a fork of the threaded daemon may not run the runtime library);
// it runs the command in the container and exits with its status, 255
// with a message on stderr when the exec itself fails.
int exec_helper(int argc, char** argv) {
  if (argc < 6 || std::strcmp(argv[5], "--") != 0) {
    std::fprintf(stderr, "usage: berth-monitor exec-helper RUNTIME_ROOT BUNDLE NAME -- ARGS...\n");
    return 2;
  }
  runtime::Globals g{.root = argv[2]};
  std::vector<std::string> args(argv + 6, argv + argc);
  auto o = collected_exec(argv[3], argv[4], args);
  auto r = o ? runtime::exec(g, *o) : Result<int>(std::move(o).error());
  if (!r) {
    std::fprintf(stderr, "exec: %s\n", r.error().what().c_str());
    return 255;
  }
  return *r;
}

}  // namespace

constexpr const char* kUsage =
    "usage: berth-monitor --name N --bundle DIR --runtime-root DIR --socket PATH --exit-file PATH --log PATH\n"
    "                     [--seccomp-socket PATH] [--ready-fd FD] [--detach 1]\n"
    "       berth-monitor exec-helper RUNTIME_ROOT BUNDLE NAME -- ARGS...\n"
    "berthd's per-container monitor: started by berthd, one per running container.\n";

int main(int argc, char** argv) {
  // Every mode puts processes into the container (the init, exec helpers,
  // terminal sessions), so each runs from a sealed copy of the binary
  // (CVE-2019-5736); the serving monitor, re-executed through
  // /proc/self/exe, is that copy already.
  if (argc == 2 && (std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0)) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (auto st = runtime::reexec_sealed(argv); !st) {
    std::fprintf(stderr, "berth-monitor: %s\n", st.error().what().c_str());
    return 1;
  }
  if (argc > 1 && std::strcmp(argv[1], "exec-helper") == 0) return exec_helper(argc, argv);
  Args a;
  if (!parse_args(argc, argv, a)) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  // berthd spawns the monitor in a session of its own and reaps this first
  // process; the monitor goes on in a child, which is no longer berthd's
  // (it is the subreaper's or PID 1's), so berthd's restarts never touch it.
  if (a.detach) {
    pid_t pid = ::fork();
    if (pid < 0) {
      std::perror("berth-monitor: fork");
      return 1;
    }
    if (pid > 0) ::_exit(0);
  }
  UniqueFd ready(a.ready_fd);
  // Orphans of the container's exec'd processes come here, not to PID 1.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  Monitor m(a);
  if (a.serve) {
    // Exec'd as /proc/self/exe, whose name ("exe") ps, top and pgrep show.
    ::prctl(PR_SET_NAME, "berth-monitor", 0, 0, 0);
    // Start-up is over: its pages of the binary need not stay mapped.
    if (auto d = drop_clean_exe_pages(); !d) log::warn("unmap start-up pages: " + d.error().what());
    m.finish(m.run());
    return 0;
  }
  auto st = m.start();
  ::signal(SIGPIPE, SIG_IGN);  // berthd may be gone by the time we answer
  if (!st) {
    ::unlink(a.socket.c_str());
    if (!a.seccomp_socket.empty()) ::unlink(a.seccomp_socket.c_str());
    if (ready) (void)write_all(ready.get(), "error " + st.error().what() + "\n");
    log::error(st.error().what());
    return 1;
  }
  if (ready) (void)write_all(ready.get(), "ok\n");
  ready.reset();
  m.reexec_to_serve();
  m.finish(m.run());
  return 0;
}
