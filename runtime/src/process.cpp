// process.cpp — the last steps before execve, shared by the container init
// and `exec`: rlimits, scheduling, identity, capabilities, fds, seccomp.
#include <fcntl.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#include <cstring>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "internal.h"
#include "security.h"

namespace berth::runtime {
namespace {

// AppArmor: the profile takes effect at execve (change_onexec), as runc
// does it; the kernel refuses a profile that is not loaded.
berth::Status apply_apparmor(const std::string& profile) {
  if (profile.empty()) return {};
  std::string cmd = "exec " + profile;
  // A private procfs: a mount over the attribute file would otherwise take
  // the write and the process would run unconfined (CVE-2025-52881).
  UniqueFd proc = BERTH_TRY_CTX(open_private_procfs(), "process.apparmorProfile");
  for (const char* rel : {"thread-self/attr/apparmor/exec", "thread-self/attr/exec"}) {
    auto st = write_proc_file(proc.get(), rel, cmd);
    if (st) return {};
    if (st.error().code() == ENOENT) continue;
    return std::move(st).error().wrap("process.apparmorProfile: set profile " + profile);
  }
  return Error::msg("process.apparmorProfile: no /proc/thread-self/attr in this kernel");
}

berth::Status set_rlimits(Kernel& k, const Process& p) {
  for (const auto& r : p.rlimits) {
    struct rlimit rl {
      r.soft, r.hard
    };
    if (k.setrlimit(r.resource, rl) < 0) return Error::os("process.rlimits: setrlimit " + r.type);
  }
  return {};
}

berth::Status set_scheduling(Kernel& k, const Process& p) {
  if (p.io_priority) {
    int klass = p.io_priority->klass == "IOPRIO_CLASS_RT" ? 1 : p.io_priority->klass == "IOPRIO_CLASS_BE" ? 2 : 3;
    int value = (klass << 13) | p.io_priority->priority;
    if (k.ioprio_set(value) < 0) return Error::os("process.ioPriority: ioprio_set");
  }
  if (p.scheduler) {
    const Scheduler& s = *p.scheduler;
    static const std::pair<const char*, int> policies[] = {
        {"SCHED_OTHER", 0}, {"SCHED_FIFO", 1}, {"SCHED_RR", 2}, {"SCHED_BATCH", 3},
        {"SCHED_ISO", 4},   {"SCHED_IDLE", 5}, {"SCHED_DEADLINE", 6}};
    int policy = 0;
    for (const auto& [n, v] : policies)
      if (s.policy == n) policy = v;
    SchedAttr attr{
        48,      static_cast<uint32_t>(policy), 0, s.nice, static_cast<uint32_t>(s.priority), s.runtime, s.deadline,
        s.period};
    for (const auto& f : s.flags) {
      if (f == "SCHED_FLAG_RESET_ON_FORK") attr.sched_flags |= 0x01;
      else if (f == "SCHED_FLAG_RECLAIM") attr.sched_flags |= 0x02;
      else if (f == "SCHED_FLAG_DL_OVERRUN") attr.sched_flags |= 0x04;
      else if (f == "SCHED_FLAG_KEEP_POLICY") attr.sched_flags |= 0x08;
      else if (f == "SCHED_FLAG_KEEP_PARAMS") attr.sched_flags |= 0x10;
      else if (f == "SCHED_FLAG_UTIL_CLAMP_MIN") attr.sched_flags |= 0x20;
      else if (f == "SCHED_FLAG_UTIL_CLAMP_MAX") attr.sched_flags |= 0x40;
      else return Error::msg("process.scheduler.flags: unknown flag " + f);
    }
    if (k.sched_setattr(attr) < 0) return Error::os("process.scheduler: sched_setattr " + s.policy);
  }
  return {};
}

berth::Status set_identity(Kernel& k, const Process& p, bool keep_caps) {
  const User& u = p.user;
  if (k.setgroups(u.additional_gids.size(), u.additional_gids.empty() ? nullptr : u.additional_gids.data()) < 0) {
    // In a user namespace with setgroups denied, only an empty list would work.
    if (!(errno == EPERM && u.additional_gids.empty())) return Error::os("process.user.additionalGids: setgroups");
  }
  if (keep_caps && k.prctl(PR_SET_KEEPCAPS, 1, 0) < 0) return Error::os("prctl PR_SET_KEEPCAPS");
  if (k.setresgid(u.gid, u.gid, u.gid) < 0) return Error::os("process.user.gid: setresgid " + std::to_string(u.gid));
  if (k.setresuid(u.uid, u.uid, u.uid) < 0) return Error::os("process.user.uid: setresuid " + std::to_string(u.uid));
  if (keep_caps && k.prctl(PR_SET_KEEPCAPS, 0, 0) < 0) return Error::os("prctl PR_SET_KEEPCAPS");
  if (u.umask) k.umask(static_cast<mode_t>(*u.umask));
  return {};
}

// CVE-2024-21626: a host directory fd leaked into the runtime must not
// give the container's process the host's file system, neither as its cwd
// (process.cwd or exec --cwd /proc/self/fd/N) nor as an fd after execve.
// A test-only build (BERTH_TEST_UNDEFEND=cve-2024-21626) leaves both checks
// out, so that tests/security can show they are what stops the attack.
#ifdef BERTH_UNDEFEND_CVE_2024_21626
constexpr bool kDefend21626 = false;
#else
constexpr bool kDefend21626 = true;
#endif

// The cwd is entered as root first, as runc does: a directory that root
// can enter and the user cannot (mode 0700) is still a valid cwd. Only
// when root is refused (root squashed on a network file system, a user
// namespace) is it entered again after the identity change. Returns
// whether the cwd was entered.
Result<bool> enter_cwd_as_root(Kernel& k, const std::string& cwd) {
  if (k.chdir(cwd.c_str()) == 0) return true;
  if (errno == EACCES || errno == EPERM) return false;
  return Error::os("process.cwd: chdir " + cwd);
}

// Makes sure the cwd is inside our root: a cwd inherited from the host or
// reached through a leaked fd shows up as "(unreachable)" or fails.
berth::Status verify_cwd(const std::string& cwd) {
  if (!kDefend21626) return {};
  char buf[PATH_MAX];
  if (!::getcwd(buf, sizeof buf)) return Error::os("process.cwd: verify " + cwd);
  if (buf[0] != '/') return Error::msg("process.cwd: " + cwd + " is outside the container root");
  return {};
}

// Every fd past the preserved ones closes at execve.
berth::Status close_fds_on_exec(Kernel& k, int preserve_fds) {
  if (!kDefend21626) return {};
  unsigned first = 3 + static_cast<unsigned>(preserve_fds);
  if (k.close_range(first, ~0u, CLOSE_RANGE_CLOEXEC) == 0) return {};
  for (int fd = static_cast<int>(first); fd < 65536; ++fd) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
  return {};
}

std::string find_program(const std::string& name, const std::vector<std::string>& env) {
  if (name.find('/') != std::string::npos) return name;
  std::string path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  for (const auto& e : env)
    if (e.rfind("PATH=", 0) == 0) path = e.substr(5);
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find(':', i);
    if (j == std::string::npos) j = path.size();
    std::string dir = path.substr(i, j - i);
    if (dir.empty()) dir = ".";
    std::string cand = dir + "/" + name;
    struct stat st;
    if (::stat(cand.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(cand.c_str(), X_OK) == 0) return cand;
    i = j + 1;
  }
  return name;
}

}  // namespace

bool apparmor_enabled() {
  auto v = fs::read_file("/sys/module/apparmor/parameters/enabled");
  return v && !v->empty() && (*v)[0] == 'Y';
}

berth::Status prepare_process(Kernel& k, const Process& p, const SeccompProgram* sc, int preserve_fds, int sync_fd) {
  BERTH_TRY(set_rlimits(k, p));
  BERTH_TRY(set_scheduling(k, p));
  BERTH_TRY(close_fds_on_exec(k, preserve_fds));
  bool has_caps = p.capabilities.has_value();
  if (has_caps) BERTH_TRY(drop_bounding_set(k, p.capabilities->bounding));
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it
  // while we still have it.
  int notify_fd = -1;
  bool seccomp_early = sc && !p.no_new_privileges;
  // The cwd is entered and checked (getcwd) before any seccomp filter can
  // refuse the check, unless root could not enter it: then the user enters
  // it after the identity change and it is checked there.
  bool in_cwd = BERTH_TRY(enter_cwd_as_root(k, p.cwd));
  if (in_cwd) BERTH_TRY(verify_cwd(p.cwd));
  if (seccomp_early) notify_fd = BERTH_TRY(load_seccomp_program(k, *sc));
  BERTH_TRY(apply_apparmor(p.apparmor_profile));
  BERTH_TRY(set_identity(k, p, has_caps));
  if (!in_cwd) {
    if (k.chdir(p.cwd.c_str()) < 0)
      return Error::os("process.cwd: chdir " + p.cwd + " as uid " + std::to_string(p.user.uid));
    BERTH_TRY(verify_cwd(p.cwd));
  }
  if (has_caps) BERTH_TRY(set_capabilities(k, *p.capabilities));
  if (p.no_new_privileges && k.prctl(PR_SET_NO_NEW_PRIVS, 1, 0) < 0) return Error::os("prctl PR_SET_NO_NEW_PRIVS");
  if (sc && !seccomp_early) notify_fd = BERTH_TRY(load_seccomp_program(k, *sc));
  if (notify_fd >= 0) {
    // The listener lives on the host: the runtime forwards the fd to it.
    BERTH_TRY(sync_send(sync_fd, Sync::seccomp_fd, {}, notify_fd));
    ::close(notify_fd);
    auto ack = BERTH_TRY(sync_recv(sync_fd));
    if (ack.kind == Sync::error) return Error::msg(ack.payload);
  }
  return {};
}

berth::Status exec_process(const Process& p) {
  std::vector<char*> argv, envp;
  for (const auto& a : p.args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const auto& e : p.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  std::string prog = find_program(p.args[0], p.env);
  ::execve(prog.c_str(), argv.data(), envp.data());
  return Error::os("exec " + p.args[0]);
}

}  // namespace berth::runtime
