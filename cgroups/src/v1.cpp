// v1.cpp — cgroup v1 manager: one directory per hierarchy, plus cgroup2 on hybrid.
#include "v1.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "fs.h"

namespace berth::cgroups {
namespace {

constexpr auto freeze_timeout = std::chrono::seconds(5);

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// blkio.throttle.io_service_bytes / io_serviced: "8:0 Read 4096" lines.
std::vector<IoEntry> parse_blkio(const std::string& text) {
  std::vector<IoEntry> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    IoEntry e;
    char op[16] = {};
    if (std::sscanf(line.c_str(), "%lu:%lu %15s %lu", &e.major, &e.minor, op, &e.value) != 4)
      continue;  // "Total N" and blank lines
    e.op = op;
    out.push_back(e);
  }
  return out;
}

}  // namespace

V1Manager::V1Manager(std::map<std::string, std::string> mounts, std::string rel,
                     std::unique_ptr<V2Manager> unified)
    : mounts_(std::move(mounts)), rel_(std::move(rel)), unified_(std::move(unified)) {}

std::vector<std::string> V1Manager::hierarchy_dirs() const {
  std::vector<std::string> out;
  for (const auto& [ctrl, mount] : mounts_)
    if (std::find(out.begin(), out.end(), mount + rel_) == out.end()) out.push_back(mount + rel_);
  return out;
}

std::string V1Manager::describe() const {
  std::string out;
  for (const auto& d : hierarchy_dirs()) out += (out.empty() ? "" : ", ") + d;
  if (unified_) out += (out.empty() ? "" : ", ") + unified_->describe();
  return out;
}

Status V1Manager::init_cpuset() {
  // A new v1 cpuset starts with empty cpus/mems and refuses tasks (ENOSPC)
  // until both are filled: copy them down from the parent, level by level.
  std::string mount = mounts_.at("cpuset");
  std::string parent = mount;
  for (size_t pos = rel_.find('/', 1);; pos = rel_.find('/', pos + 1)) {
    std::string d = mount + rel_.substr(0, pos);
    for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
      auto mine = fs::read_file(d + "/" + file);
      if (!mine && mine.error().code() == ENOENT) continue;  // not a cpuset dir
      if (!mine) return std::move(mine).error();
      if (!trim(*mine).empty()) continue;
      std::string from = trim(BERTH_TRY(fs::read_file(parent + "/" + file)));
      BERTH_TRY(fs::write_file(d + "/" + file, from));
    }
    parent = d;
    if (pos == std::string::npos) return ok();
  }
}

Status V1Manager::create() {
  if (mounts_.empty()) return Error(ENOENT, "create cgroup " + rel_ + ": no cgroup v1 hierarchy found");
  std::vector<std::string> made;
  auto note = [&](const std::string& d) {
    made.push_back(d);
    return ok();
  };
  Status s = ok();
  for (const auto& d : hierarchy_dirs())
    if (s) s = fs::mkdir_p(d, note);
  if (s && has("cpuset")) s = init_cpuset();
  if (s && unified_) s = unified_->create();
  if (!s) {
    // Parents were noted before children: remove in reverse.
    for (auto it = made.rbegin(); it != made.rend(); ++it) (void)::rmdir(it->c_str());
    return std::move(s).error().wrap("create cgroup " + rel_);
  }
  return ok();
}

Status V1Manager::delegate(uid_t uid, gid_t gid) { return unified_ ? unified_->delegate(uid, gid) : ok(); }

Status V1Manager::enter(pid_t pid) {
  std::string p = std::to_string(pid);
  for (const auto& d : hierarchy_dirs()) BERTH_TRY(fs::write_file(d + "/cgroup.procs", p));
  if (unified_) BERTH_TRY(unified_->enter(pid));
  return ok();
}

Status V1Manager::set(const Resources& in) {
  Resources r = in;
  // On hybrid hosts hugetlb (and any unified entries) live in the cgroup2 tree.
  if (unified_ && !has("hugetlb") && (!r.hugepage_limits.empty() || !r.unified.empty())) {
    Resources v2part;
    v2part.hugepage_limits = std::move(r.hugepage_limits);
    v2part.unified = std::move(r.unified);
    r.hugepage_limits.clear();
    r.unified.clear();
    auto writes = BERTH_TRY_CTX(translate_v2(v2part), "linux.resources");
    BERTH_TRY(unified_->apply(writes));
  }
  uint64_t current_limit = UINT64_MAX;
  if (has("memory"))
    current_limit = fs::read_u64(dir("memory") + "/memory.limit_in_bytes").value_or(UINT64_MAX);
  if (r.memory.check_before_update.value_or(false) && r.memory.limit && *r.memory.limit > 0 &&
      has("memory")) {
    auto usage = fs::read_u64(dir("memory") + "/memory.usage_in_bytes");
    if (usage && *usage > static_cast<uint64_t>(*r.memory.limit))
      return Error(EBUSY, "set memory limit " + std::to_string(*r.memory.limit) +
                              ": below current usage " + std::to_string(*usage));
  }
  auto writes = BERTH_TRY_CTX(translate_v1(r, current_limit), "linux.resources");
  // Apply per controller, keeping each one's order (fs::apply retries
  // order-sensitive pairs within a controller).
  for (const auto& ctrl : controllers_of(writes)) {
    if (!has(ctrl))
      return Error(ENOENT, "set cgroup limits: the " + ctrl + " controller is not mounted");
    std::vector<Write> mine;
    for (const auto& w : writes)
      if (w.controller == ctrl) mine.push_back(w);
    BERTH_TRY(fs::apply(dir(ctrl), mine));
  }
  return ok();
}

Status V1Manager::set_freezer(const std::string& state) {
  std::string file = dir("freezer") + "/freezer.state";
  BERTH_TRY(fs::write_file(file, state));
  // FREEZING can stall on a task in uninterruptible sleep; writing FROZEN
  // again restarts the attempt, as runc does.
  bool done = BERTH_TRY(fs::poll_until([&]() -> Result<bool> {
    std::string now = trim(BERTH_TRY(fs::read_file(file)));
    if (now == state) return true;
    BERTH_TRY(fs::write_file(file, state));
    return false;
  }, freeze_timeout));
  if (done) return ok();
  if (state == "FROZEN") (void)fs::write_file(file, "THAWED");
  return Error(ETIMEDOUT, "set " + file + " to " + state + ": state did not settle");
}

Status V1Manager::freeze(bool want) {
  if (has("freezer")) return set_freezer(want ? "FROZEN" : "THAWED");
  if (unified_ && unified_->has_file("cgroup.freeze")) return unified_->freeze(want);
  return Error(ENOTSUP, "freeze " + rel_ + ": no freezer hierarchy and no cgroup2 freezer");
}

Result<bool> V1Manager::frozen() {
  if (has("freezer"))
    return trim(BERTH_TRY(fs::read_file(dir("freezer") + "/freezer.state"))) == "FROZEN";
  if (unified_) return unified_->frozen();
  return false;
}

Result<std::vector<pid_t>> V1Manager::pids() {
  // The cgroup2 tree sees every process on hybrid hosts; otherwise any v1
  // hierarchy we joined will do (they all hold the same tasks).
  if (unified_) return unified_->pids();
  std::vector<pid_t> out;
  for (const char* ctrl : {"pids", "freezer", "memory", "cpu"}) {
    if (!has(ctrl)) continue;
    BERTH_TRY_CTX(fs::collect_pids(dir(ctrl), out), "list pids");
    return out;
  }
  auto dirs = hierarchy_dirs();
  if (!dirs.empty()) BERTH_TRY_CTX(fs::collect_pids(dirs.front(), out), "list pids");
  return out;
}

Status V1Manager::kill_all(int sig) {
  if (sig == SIGKILL && unified_ && unified_->has_file("cgroup.kill"))
    return unified_->kill_all(sig);
  // Freeze first so no task forks past the walk.
  bool froze = sig == SIGKILL && (has("freezer") || unified_) && freeze(true).ok();
  auto list = pids();
  Status s = ok();
  if (!list) s = std::move(list).error();
  for (pid_t pid : list ? *list : std::vector<pid_t>{})
    if (::kill(pid, sig) < 0 && errno != ESRCH && s) s = Error::os("kill " + std::to_string(pid));
  if (froze) (void)freeze(false);
  return s;
}

Status V1Manager::destroy() {
  // Try every hierarchy even after a failure, so one busy cgroup does not
  // leak the others; report the first error.
  Status first = ok();
  for (const auto& d : hierarchy_dirs()) {
    Status s = fs::rmdir_tree(d);
    if (!s && first) first = std::move(s);
  }
  if (unified_) {
    Status s = unified_->destroy();
    if (!s && first) first = std::move(s);
  }
  return first;
}

void V1Manager::read_cpu_stats(Stats& st) {
  if (has("cpuacct")) {
    std::string d = dir("cpuacct");
    st.cpu.usage_total_ns = fs::read_u64(d + "/cpuacct.usage").value_or(0);
    auto user = fs::read_u64(d + "/cpuacct.usage_user");
    auto sys = fs::read_u64(d + "/cpuacct.usage_sys");
    if (user && sys) {
      st.cpu.usage_user_ns = *user;
      st.cpu.usage_kernel_ns = *sys;
    } else if (auto text = fs::read_file(d + "/cpuacct.stat")) {
      // USER_HZ ticks.
      uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
      auto kv = fs::parse_flat_keyed(*text);
      st.cpu.usage_user_ns = fs::keyed(kv, "user") * ns_per_tick;
      st.cpu.usage_kernel_ns = fs::keyed(kv, "system") * ns_per_tick;
    }
  }
  if (has("cpu")) {
    if (auto text = fs::read_file(dir("cpu") + "/cpu.stat")) {
      auto kv = fs::parse_flat_keyed(*text);
      st.cpu.periods = fs::keyed(kv, "nr_periods");
      st.cpu.throttled_periods = fs::keyed(kv, "nr_throttled");
      st.cpu.throttled_time_ns = fs::keyed(kv, "throttled_time");
    }
  }
}

void V1Manager::read_memory_stats(Stats& st) {
  if (!has("memory")) return;
  std::string d = dir("memory");
  auto& m = st.memory;
  m.usage = fs::read_u64(d + "/memory.usage_in_bytes").value_or(0);
  m.max_usage = fs::read_u64(d + "/memory.max_usage_in_bytes").value_or(0);
  m.limit = fs::read_u64(d + "/memory.limit_in_bytes").value_or(0);
  // v1 accounts memory+swap together; reported as is, as runc does.
  m.swap_usage = fs::read_u64(d + "/memory.memsw.usage_in_bytes").value_or(0);
  m.swap_limit = fs::read_u64(d + "/memory.memsw.limit_in_bytes").value_or(0);
  m.failcnt = fs::read_u64(d + "/memory.failcnt").value_or(0);
  if (auto oom = fs::read_file(d + "/memory.oom_control"))
    m.oom_kills = fs::keyed(fs::parse_flat_keyed(*oom), "oom_kill");
  if (auto raw = fs::read_file(d + "/memory.stat")) m.raw = fs::parse_flat_keyed(*raw);
}

void V1Manager::read_blkio_stats(Stats& st) {
  if (!has("blkio")) return;
  std::string d = dir("blkio");
  if (auto t = fs::read_file(d + "/blkio.throttle.io_service_bytes")) st.io_bytes = parse_blkio(*t);
  if (auto t = fs::read_file(d + "/blkio.throttle.io_serviced")) st.io_ops = parse_blkio(*t);
}

Result<Stats> V1Manager::stats() {
  auto dirs = hierarchy_dirs();
  if (dirs.empty() || !fs::is_dir(dirs.front())) return Error(ENOENT, "read stats of " + rel_);
  Stats st;
  read_cpu_stats(st);
  read_memory_stats(st);
  if (has("pids")) {
    st.pids.current = fs::read_u64(dir("pids") + "/pids.current").value_or(0);
    uint64_t max = fs::read_u64(dir("pids") + "/pids.max").value_or(0);
    st.pids.limit = max == UINT64_MAX ? 0 : max;
  }
  read_blkio_stats(st);
  return st;
}

Result<uint64_t> V1Manager::oom_kills() {
  if (!has("memory")) return uint64_t{0};
  auto text = fs::read_file(dir("memory") + "/memory.oom_control");
  if (!text) return text.error().code() == ENOENT ? Result<uint64_t>(uint64_t{0}) : std::move(text).error();
  return fs::keyed(fs::parse_flat_keyed(*text), "oom_kill");
}

}  // namespace berth::cgroups
