// v2.cpp — cgroup v2 manager: create, enter, limits, freeze, kill, stats.
#include "v2.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <sstream>

#include "berth/base/fd.h"
#include "berth/base/strings.h"
#include "berth/cgroups/bpf.h"
#include "fs.h"

namespace berth::cgroups {
namespace {

constexpr auto freeze_timeout = std::chrono::seconds(5);

std::vector<std::string> words(const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Turns on, in `dir`/cgroup.subtree_control, every controller `dir` has and
// does not delegate yet. Returns the controllers its children will get.
Result<std::vector<std::string>> enable_below(const std::string& dir,
                                              const std::vector<std::string>& inherited) {
  auto text = fs::read_file(dir + "/cgroup.controllers");
  if (!text && text.error().code() != ENOENT) return std::move(text).error();
  // A directory without cgroup.controllers (only in test fakes) is taken to
  // have what its parent delegated.
  std::vector<std::string> available = text ? words(*text) : inherited;
  auto enabled_text = fs::read_file(dir + "/cgroup.subtree_control");
  std::vector<std::string> enabled = enabled_text ? words(*enabled_text) : std::vector<std::string>{};
  std::string add;
  for (const auto& c : available)
    if (!contains(enabled, c)) add += (add.empty() ? "+" : " +") + c;
  if (add.empty()) return available;
  if (fs::write_file(dir + "/cgroup.subtree_control", add)) return available;
  // One at a time: a controller the kernel refuses here (e.g. cpu with
  // realtime tasks) should not keep the others off. A limit that needs it
  // then fails in set() naming the missing file.
  for (const auto& c : words(add)) (void)fs::write_file(dir + "/cgroup.subtree_control", c);
  return available;
}

void parse_io_stat(const std::string& text, Stats& st) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    auto f = words(line);
    if (f.empty()) continue;
    IoEntry base;
    if (std::sscanf(f[0].c_str(), "%lu:%lu", &base.major, &base.minor) != 2) continue;
    for (size_t i = 1; i < f.size(); ++i) {
      size_t eq = f[i].find('=');
      if (eq == std::string::npos) continue;
      std::string key = f[i].substr(0, eq);
      IoEntry e = base;
      e.value = fs::parse_u64(f[i].substr(eq + 1));
      if (key == "rbytes" || key == "wbytes") {
        e.op = key[0] == 'r' ? "Read" : "Write";
        st.io_bytes.push_back(e);
      } else if (key == "rios" || key == "wios") {
        e.op = key[0] == 'r' ? "Read" : "Write";
        st.io_ops.push_back(e);
      }
    }
  }
}

}  // namespace

V2Manager::V2Manager(std::string root, std::string rel)
    : root_(std::move(root)), rel_(std::move(rel)), dir_(root_ + rel_) {}

Status V2Manager::enable_controllers() {
  // Walk root -> parent of the leaf; the leaf itself keeps its
  // subtree_control empty since it holds processes ("no internal processes").
  std::vector<std::string> inherited;
  std::string dir = root_;
  size_t pos = 0;
  while (true) {
    inherited = BERTH_TRY(enable_below(dir, inherited));
    size_t next = rel_.find('/', pos + 1);
    if (next == std::string::npos) return ok();
    dir = root_ + rel_.substr(0, next);
    pos = next;
  }
}

Status V2Manager::create() {
  if (!fs::is_dir(root_)) return Error(ENOENT, "create cgroup " + dir_ + ": no cgroup2 at " + root_);
  std::string first_new;
  auto note = [&](const std::string& d) {
    if (first_new.empty()) first_new = d;
    return ok();
  };
  // Record which directories this call makes so a failure removes them.
  // Existing children pick up controllers enabled in their parent later, so
  // the parents can be made before enable_controllers() walks them.
  Status s = fs::mkdir_p(root_ + rel_.substr(0, rel_.rfind('/')), note);
  if (s) s = enable_controllers();
  if (s) s = fs::mkdir_p(dir_, note);
  if (!s) {
    if (!first_new.empty()) (void)fs::rmdir_tree(first_new);
    return std::move(s).error().wrap("create cgroup " + dir_);
  }
  return ok();
}

Status V2Manager::enter(pid_t pid) {
  return fs::write_file(dir_ + "/cgroup.procs", std::to_string(pid));
}

Status V2Manager::apply(const std::vector<Write>& writes) { return fs::apply(dir_, writes); }

Status V2Manager::set(const Resources& r) {
  auto writes = BERTH_TRY_CTX(translate_v2(r), "linux.resources");
  if (r.memory.check_before_update.value_or(false) && r.memory.limit && *r.memory.limit > 0) {
    auto usage = fs::read_u64(dir_ + "/memory.current");
    if (usage && *usage > static_cast<uint64_t>(*r.memory.limit))
      return Error(EBUSY, "set memory limit " + std::to_string(*r.memory.limit) +
                              ": below current usage " + std::to_string(*usage));
  }
  BERTH_TRY(apply(writes));
  if (!r.devices.empty()) {
    UniqueFd fd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return Error::os("open cgroup " + dir_);
    BERTH_TRY_CTX(attach_device_filter(fd.get(), device_filter_program(r.devices)),
                  "set device rules on " + dir_);
  }
  return ok();
}

bool V2Manager::has_controller(const std::string& name) const {
  auto text = fs::read_file(dir_ + "/cgroup.controllers");
  return text && contains(words(*text), name);
}

bool V2Manager::has_file(const std::string& name) const { return fs::exists(dir_ + "/" + name); }

Status V2Manager::wait_frozen(bool want) {
  bool done = BERTH_TRY(fs::poll_until([&]() -> Result<bool> {
    return BERTH_TRY(frozen()) == want;
  }, freeze_timeout));
  if (done) return ok();
  return Error(ETIMEDOUT, std::string(want ? "freeze " : "thaw ") + dir_ + ": state did not settle");
}

Status V2Manager::freeze(bool want) {
  BERTH_TRY(fs::write_file(dir_ + "/cgroup.freeze", want ? "1" : "0"));
  Status s = wait_frozen(want);
  // Do not leave a half-frozen container behind a failed pause.
  if (!s && want) (void)fs::write_file(dir_ + "/cgroup.freeze", "0");
  return s;
}

Result<bool> V2Manager::frozen() {
  auto events = fs::read_file(dir_ + "/cgroup.events");
  if (events) return fs::keyed(fs::parse_flat_keyed(*events), "frozen") == 1;
  std::string f = BERTH_TRY(fs::read_file(dir_ + "/cgroup.freeze"));
  return fs::parse_u64(f) == 1;
}

Result<std::vector<pid_t>> V2Manager::pids() {
  std::vector<pid_t> out;
  BERTH_TRY_CTX(fs::collect_pids(dir_, out), "list pids");
  return out;
}

Status V2Manager::kill_all(int sig) {
  if (sig == SIGKILL && has_file("cgroup.kill"))
    return fs::write_file(dir_ + "/cgroup.kill", "1");
  // Without cgroup.kill, freeze first so no task forks past the walk.
  bool froze = sig == SIGKILL && has_file("cgroup.freeze") && freeze(true).ok();
  auto list = pids();
  Status s = ok();
  if (!list) s = list.error();
  for (pid_t pid : list ? *list : std::vector<pid_t>{})
    if (::kill(pid, sig) < 0 && errno != ESRCH && s)
      s = Error::os("kill " + std::to_string(pid));
  if (froze) (void)freeze(false);
  return s;
}

Status V2Manager::destroy() { return fs::rmdir_tree(dir_); }

Status V2Manager::delegate(uid_t uid, gid_t gid) {
  std::vector<std::string> files = {"cgroup.procs", "cgroup.threads", "cgroup.subtree_control"};
  if (auto listed = fs::read_file("/sys/kernel/cgroup/delegate")) {
    files.clear();
    for (std::string_view f : split(*listed, '\n'))
      if (!f.empty()) files.emplace_back(f);
  }
  if (::chown(dir_.c_str(), uid, gid) < 0) return Error::os("delegate cgroup " + dir_ + ": chown");
  for (const std::string& f : files) {
    std::string path = dir_ + "/" + f;
    if (::chown(path.c_str(), uid, gid) < 0 && errno != ENOENT) return Error::os("delegate cgroup: chown " + path);
  }
  return ok();
}

Result<Stats> V2Manager::stats() {
  if (!fs::is_dir(dir_)) return Error(ENOENT, "read stats of " + dir_);
  Stats st;
  if (auto cpu = fs::read_file(dir_ + "/cpu.stat")) {
    auto kv = fs::parse_flat_keyed(*cpu);
    st.cpu.usage_total_ns = fs::keyed(kv, "usage_usec") * 1000;
    st.cpu.usage_user_ns = fs::keyed(kv, "user_usec") * 1000;
    st.cpu.usage_kernel_ns = fs::keyed(kv, "system_usec") * 1000;
    st.cpu.periods = fs::keyed(kv, "nr_periods");
    st.cpu.throttled_periods = fs::keyed(kv, "nr_throttled");
    st.cpu.throttled_time_ns = fs::keyed(kv, "throttled_usec") * 1000;
  }
  auto& m = st.memory;
  m.usage = fs::read_u64(dir_ + "/memory.current").value_or(0);
  m.max_usage = fs::read_u64(dir_ + "/memory.peak").value_or(0);
  m.limit = fs::read_u64(dir_ + "/memory.max").value_or(0);  // "max" = UINT64_MAX
  m.swap_usage = fs::read_u64(dir_ + "/memory.swap.current").value_or(0);
  m.swap_limit = fs::read_u64(dir_ + "/memory.swap.max").value_or(0);
  if (auto ev = fs::read_file(dir_ + "/memory.events")) {
    auto kv = fs::parse_flat_keyed(*ev);
    m.failcnt = fs::keyed(kv, "max");
    m.oom_kills = fs::keyed(kv, "oom_kill");
  }
  if (auto raw = fs::read_file(dir_ + "/memory.stat")) m.raw = fs::parse_flat_keyed(*raw);
  st.pids.current = fs::read_u64(dir_ + "/pids.current").value_or(0);
  uint64_t pids_max = fs::read_u64(dir_ + "/pids.max").value_or(0);
  st.pids.limit = pids_max == UINT64_MAX ? 0 : pids_max;
  if (auto io = fs::read_file(dir_ + "/io.stat")) parse_io_stat(*io, st);
  return st;
}

Result<uint64_t> V2Manager::oom_kills() {
  auto ev = fs::read_file(dir_ + "/memory.events");
  if (!ev) return ev.error().code() == ENOENT ? Result<uint64_t>(uint64_t{0}) : std::move(ev).error();
  return fs::keyed(fs::parse_flat_keyed(*ev), "oom_kill");
}

}  // namespace berth::cgroups
