// ops.cpp — start, kill, delete, pause/resume, ps, update and stats.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "internal.h"

namespace berth::runtime {
namespace {

UniqueFd pidfd_of(pid_t pid) { return UniqueFd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

// Waits up to `ms` for the process behind `pidfd` to exit.
bool wait_exit(int pidfd, int ms) {
  struct pollfd p {
    pidfd, POLLIN, 0
  };
  int r;
  do {
    r = ::poll(&p, 1, ms);
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

berth::Status signal_init(const State& s, int sig) {
  UniqueFd pfd = pidfd_of(s.pid);
  // Opened first, then checked: the pidfd pins the process, so a pid reused
  // after the check cannot receive the signal.
  if (!pfd || !process_alive(s.pid, s.start_time)) return Error(ESRCH, "container " + s.id + " is not running");
  if (::syscall(SYS_pidfd_send_signal, pfd.get(), sig, nullptr, 0) < 0) return Error::os("kill container " + s.id);
  return {};
}

// The default parent (/berth in each hierarchy) goes away with its last
// container, so a node without containers carries no berth cgroups. A
// concurrent create that loses this race retries (see create_impl).
void remove_default_cgroup_parents(const Globals& g) {
  ::rmdir(fs::join(g.cgroup_root, "berth").c_str());
  auto names = fs::list_dir(g.cgroup_root);
  if (!names) return;
  for (const auto& n : *names) ::rmdir((fs::join(g.cgroup_root, n) + "/berth").c_str());
}

}  // namespace

Result<int> parse_signal(const std::string& s) {
  if (s.empty()) return Error::msg("signal: empty");
  if (s[0] >= '0' && s[0] <= '9') {
    char* end = nullptr;
    long n = std::strtol(s.c_str(), &end, 10);
    if (*end || n <= 0 || n > 64) return Error::msg("signal: invalid number " + s);
    return static_cast<int>(n);
  }
  std::string name = s;
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  static const std::pair<const char*, int> names[] = {
      {"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},   {"ILL", SIGILL},   {"TRAP", SIGTRAP},
      {"ABRT", SIGABRT}, {"IOT", SIGIOT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},   {"KILL", SIGKILL},
      {"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},   {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},
      {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT}, {"STOP", SIGSTOP},
      {"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},   {"URG", SIGURG},   {"XCPU", SIGXCPU},
      {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
      {"POLL", SIGPOLL}, {"PWR", SIGPWR},     {"SYS", SIGSYS}};
  for (const auto& [n, v] : names)
    if (name == n) return v;
  if (name.rfind("RTMIN", 0) == 0 || name.rfind("RTMAX", 0) == 0) {
    bool min = name[3] == 'I';
    int base = min ? SIGRTMIN : SIGRTMAX;
    std::string rest = name.substr(5);
    if (rest.empty()) return base;
    long off = std::strtol(rest.c_str(), nullptr, 10);
    int sig = base + static_cast<int>(off);
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
  }
  return Error::msg("signal: unknown signal " + s);
}

berth::Status start(const Globals& g, const std::string& id) {
  State s = BERTH_TRY(load_state(g, id));
  if (s.status != ContainerStatus::created)
    return Error::msg("cannot start container " + id + " in status " + status_name(s.status) + " (must be created)");
  std::string fifo = fs::join(state_dir(g, id), "exec.fifo");
  UniqueFd fd(::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return Error::os("start container " + id + ": open " + fifo);
  if (::write(fd.get(), "0", 1) != 1) return Error::os("start container " + id + ": write " + fifo);
  ::unlink(fifo.c_str());
  // The poststart hooks were kept at create: the bundle is not read again
  // (and a config.json changed since cannot add hooks). A container made
  // before they were kept has none in its state: read its bundle then.
  std::vector<Hook> hooks;
  if (!s.poststart.is_null()) {
    auto kept = hooks_from_json(s.poststart);
    if (kept) hooks = std::move(*kept);
  } else if (auto text = fs::read_file(fs::join(s.bundle, "config.json"))) {
    if (auto spec = parse_spec(*text, s.bundle)) hooks = std::move(spec->hooks.poststart);
  }
  if (!hooks.empty()) {
    s.status = ContainerStatus::running;
    run_hooks_warning(hooks, "poststart", json::dump(state_json(s)));
  }
  return {};
}

berth::Status kill(const Globals& g, const std::string& id, int sig, bool all) {
  State s = BERTH_TRY(load_state(g, id));
  if (all) {
    auto cg = BERTH_TRY(cgroup_manager(g, s));
    if (s.status == ContainerStatus::paused && sig == SIGKILL) (void)cg->freeze(false);
    return cg->kill_all(sig);
  }
  if (s.status == ContainerStatus::stopped) return Error(ESRCH, "container " + id + " is not running");
  return signal_init(s, sig);
}

berth::Status remove(const Globals& g, const std::string& id, bool force) {
  auto loaded = load_state(g, id);
  if (!loaded) {
    // A state dir without a readable state file is a half-made container
    // from a crash: --force removes it.
    if (force && loaded.error().code() != ENOENT && validate_id(id)) {
      (void)fs::remove_tree(state_dir(g, id));
      return {};
    }
    if (force && loaded.error().code() == ENOENT) return {};
    return std::move(loaded).error();
  }
  State s = std::move(loaded.value());
  if (s.status == ContainerStatus::running || s.status == ContainerStatus::paused) {
    if (!force) return Error::msg("cannot delete container " + id + " that is " + status_name(s.status) + " (use --force)");
  }
  auto cg = cgroup_manager(g, s);
  if (s.status != ContainerStatus::stopped) {
    UniqueFd pfd = pidfd_of(s.pid);
    if (cg) {
      (void)(*cg)->freeze(false);
      (void)(*cg)->kill_all(SIGKILL);
    }
    if (pfd && process_alive(s.pid, s.start_time)) {
      ::syscall(SYS_pidfd_send_signal, pfd.get(), SIGKILL, nullptr, 0);
      wait_exit(pfd.get(), 10000);
    }
  }
  if (cg) {
    // Processes leave the cgroup shortly after they die.
    for (int i = 0; i < 2000; ++i) {
      auto st = (*cg)->destroy();
      if (st || st.error().code() == ENOENT) break;
      if (i % 100 == 99) (void)(*cg)->kill_all(SIGKILL);
      ::usleep(1000);
    }
  }
  if (s.cgroup_path.empty()) remove_default_cgroup_parents(g);
  if (!s.poststop.is_null()) {
    auto hooks = hooks_from_json(s.poststop);
    if (hooks) {
      s.status = ContainerStatus::stopped;
      run_hooks_warning(*hooks, "poststop", json::dump(state_json(s)));
    }
  }
  // A restore killed before it unmounted the rootfs's bind for criu:
  // that mount goes first, so that nothing below walks into the rootfs.
  std::string criu_root = fs::join(state_dir(g, id), "criu-root");
  if (::umount2(criu_root.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return Error::os("umount " + criu_root);
  if (::rmdir(criu_root.c_str()) < 0 && errno != ENOENT) return Error::os("rmdir " + criu_root);
  return fs::remove_tree(state_dir(g, id));
}

berth::Status pause(const Globals& g, const std::string& id) {
  State s = BERTH_TRY(load_state(g, id));
  if (s.status != ContainerStatus::running) return Error::msg("cannot pause container " + id + " in status " + status_name(s.status));
  auto cg = BERTH_TRY(cgroup_manager(g, s));
  return cg->freeze(true);
}

berth::Status resume(const Globals& g, const std::string& id) {
  State s = BERTH_TRY(load_state(g, id));
  if (s.status != ContainerStatus::paused) return Error::msg("cannot resume container " + id + " in status " + status_name(s.status));
  auto cg = BERTH_TRY(cgroup_manager(g, s));
  return cg->freeze(false);
}

Result<std::vector<pid_t>> pids(const Globals& g, const std::string& id) {
  State s = BERTH_TRY(load_state(g, id));
  auto cg = BERTH_TRY(cgroup_manager(g, s));
  return cg->pids();
}

berth::Status update(const Globals& g, const std::string& id, const cgroups::Resources& r) {
  State s = BERTH_TRY(load_state(g, id));
  if (s.status == ContainerStatus::stopped) return Error::msg("cannot update container " + id + ": it is stopped");
  auto cg = BERTH_TRY(cgroup_manager(g, s));
  return cg->set(r);
}

Result<uint64_t> oom_count(const Globals& g, const std::string& id) {
  State s = BERTH_TRY(read_state_file(g, id));
  auto cg = BERTH_TRY(cgroup_manager(g, s));
  return cg->oom_kills();
}

Result<json::Value> stats_event(const Globals& g, const std::string& id) {
  State s = BERTH_TRY(load_state(g, id));
  if (s.status == ContainerStatus::stopped) return Error::msg("container " + id + " is not running");
  auto cg = BERTH_TRY(cgroup_manager(g, s));
  cgroups::Stats st = BERTH_TRY(cg->stats());
  json::Value cpu = json::Value::object();
  json::Value usage = json::Value::object();
  usage.set("total", st.cpu.usage_total_ns);
  usage.set("kernel", st.cpu.usage_kernel_ns);
  usage.set("user", st.cpu.usage_user_ns);
  cpu.set("usage", std::move(usage));
  json::Value thr = json::Value::object();
  thr.set("periods", st.cpu.periods);
  thr.set("throttledPeriods", st.cpu.throttled_periods);
  thr.set("throttledTime", st.cpu.throttled_time_ns);
  cpu.set("throttling", std::move(thr));
  json::Value mem = json::Value::object();
  json::Value mu = json::Value::object();
  mu.set("limit", st.memory.limit);
  mu.set("usage", st.memory.usage);
  mu.set("max", st.memory.max_usage);
  mu.set("failcnt", st.memory.failcnt);
  mem.set("usage", std::move(mu));
  json::Value sw = json::Value::object();
  sw.set("limit", st.memory.swap_limit);
  sw.set("usage", st.memory.swap_usage);
  mem.set("swap", std::move(sw));
  json::Value raw = json::Value::object();
  for (const auto& [k, v] : st.memory.raw) raw.set(k, v);
  mem.set("raw", std::move(raw));
  json::Value pidsv = json::Value::object();
  pidsv.set("current", st.pids.current);
  pidsv.set("limit", st.pids.limit);
  auto io_list = [](const std::vector<cgroups::IoEntry>& v) {
    json::Value a = json::Value::array();
    for (const auto& e : v) {
      json::Value o = json::Value::object();
      o.set("major", e.major);
      o.set("minor", e.minor);
      o.set("op", e.op);
      o.set("value", e.value);
      a.push_back(std::move(o));
    }
    return a;
  };
  json::Value blkio = json::Value::object();
  blkio.set("ioServiceBytesRecursive", io_list(st.io_bytes));
  blkio.set("ioServicedRecursive", io_list(st.io_ops));
  json::Value data = json::Value::object();
  data.set("cpu", std::move(cpu));
  data.set("memory", std::move(mem));
  data.set("pids", std::move(pidsv));
  data.set("blkio", std::move(blkio));
  json::Value ev = json::Value::object();
  ev.set("type", "stats");
  ev.set("id", id);
  ev.set("data", std::move(data));
  return ev;
}

}  // namespace berth::runtime
