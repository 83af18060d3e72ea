// exec.cpp — `exec`: a new process inside a running container's
// namespaces, cgroup and root.
#include <fcntl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/base/fs.h"
#include "berth/runtime/sealed_exe.h"
#include "internal.h"
#include "linux_compat.h"

namespace berth::runtime {

Result<int> wait_forwarding_signals(pid_t pid, int master);
UniqueFd receive_master(int sock);

namespace {

struct NsFile {
  int type;
  const char* file;
};
// User namespace first: it owns the others. pid is joined by the runtime
// itself before fork.
constexpr NsFile kOrder[] = {{CLONE_NEWUSER, "user"}, {CLONE_NEWIPC, "ipc"},      {CLONE_NEWUTS, "uts"},
                             {CLONE_NEWNET, "net"},   {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWTIME, "time"},
                             {CLONE_NEWNS, "mnt"}};

// On cgroup v2 a container whose own init delegated controllers below its
// cgroup (systemd moves itself into init.scope) has no room for processes
// at its top: joining it is EBUSY. Join the init's cgroup then, as runc does.
berth::Status join_init_cgroup(const Globals& g, pid_t init, pid_t pid) {
  auto text = fs::read_file("/proc/" + std::to_string(init) + "/cgroup");
  if (!text) return std::move(text).error();
  size_t at = text->find("0::");
  if (at == std::string::npos || !fs::exists(fs::join(g.cgroup_root, "cgroup.controllers")))
    return Error(EBUSY, "the container's cgroup has sub-groups with controllers and no cgroup v2 path for its init");
  size_t end = text->find('\n', at);
  std::string rel = text->substr(at + 3, end == std::string::npos ? std::string::npos : end - at - 3);
  std::string procs = fs::join(g.cgroup_root + rel, "cgroup.procs");
  return fs::write_file(procs, std::to_string(pid));
}

// A sub-cgroup of the container's, relative and without "..": the
// container's own (delegated) tree is the only place an exec may go.
berth::Status check_sub_cgroup(const std::string& sub, const char* what) {
  if (sub.empty() || sub.front() == '/' || sub.find('\0') != std::string::npos)
    return Error::msg(std::string(what) + ": expected a path relative to the container's cgroup, got \"" + sub + "\"");
  for (size_t at = 0; at <= sub.size();) {
    size_t slash = std::min(sub.find('/', at), sub.size());
    std::string part = sub.substr(at, slash - at);
    if (part.empty() || part == "." || part == "..")
      return Error::msg(std::string(what) + ": \"" + sub + "\" leaves the container's cgroup");
    at = slash + 1;
  }
  return {};
}

// Joins SUB below the container's cgroup (cgroup v2 only), making it first
// when `make` is set.
berth::Status join_sub_cgroup(const Globals& g, const cgroups::Manager& cg, const std::string& sub, bool make,
                              pid_t pid) {
  if (!fs::exists(fs::join(g.cgroup_root, "cgroup.controllers")))
    return Error(ENOTSUP, "sub-cgroups are joined on a cgroup v2 hierarchy only");
  std::string dir = g.cgroup_root + cg.relative_path() + "/" + sub;
  if (make && ::mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) return Error::os("mkdir " + dir);
  return fs::write_file(fs::join(dir, "cgroup.procs"), std::to_string(pid));
}

}  // namespace

berth::Status exec_child_steps(ExecChild& c) {
  Kernel& k = *c.kernel;
  if (k.prctl(PR_SET_DUMPABLE, 0, 0) < 0) return Error::os("prctl PR_SET_DUMPABLE");
  auto go = BERTH_TRY(sync_recv(c.sync_fd));
  if (go.kind != Sync::go) return Error::msg("unexpected message from runtime");
  for (const auto& [fd, type] : c.joins)
    if (k.setns(fd, type) < 0) return Error::os("setns " + std::to_string(type));
  if (k.fchdir(c.root_fd) < 0 || k.chroot(".") < 0 || k.chdir("/") < 0) return Error::os("enter container root");
  if (c.console_fd >= 0) {
    BERTH_TRY(setup_console(k, c.console_fd, c.o->process, false));
    ::close(c.console_fd);
  } else if (k.setsid() < 0 && errno != EPERM) {
    return Error::os("setsid");
  }
  BERTH_TRY(prepare_process(k, c.o->process, c.seccomp, c.o->preserve_fds, c.sync_fd));
  return sync_send(c.sync_fd, Sync::ready);
}

Result<int> exec(const Globals& g, const ExecOptions& o) {
  BERTH_TRY(require_sealed_exe());  // the process is a fork of this one
  State s = BERTH_TRY(load_state(g, o.id));
  // --ignore-paused: the process joins the frozen cgroup and runs once the
  // container is resumed (the exec waits for it until then), as in runc.
  bool paused_ok = o.ignore_paused && s.status == ContainerStatus::paused;
  if (s.status != ContainerStatus::running && s.status != ContainerStatus::created && !paused_ok)
    return Error::msg("cannot exec in container " + o.id + " in status " + status_name(s.status));
  auto text = BERTH_TRY_CTX(fs::read_file(fs::join(s.bundle, "config.json")), "exec in " + o.id);
  Spec spec = BERTH_TRY_CTX(parse_spec(text, s.bundle), "exec in " + o.id);
  if (!o.sub_cgroup.empty()) BERTH_TRY(check_sub_cgroup(o.sub_cgroup, "--cgroup"));
  if (!o.busy_leaf.empty()) BERTH_TRY(check_sub_cgroup(o.busy_leaf, "exec cgroup leaf"));
  if (o.process.terminal && o.console_socket.empty() && o.console_fd < 0 && o.detach)
    return Error::msg("process.terminal: a detached exec needs --console-socket");
  if (!o.process.apparmor_profile.empty() && !apparmor_enabled())
    return Error::msg("process.apparmorProfile: AppArmor is not enabled on this host");

  std::optional<SeccompProgram> seccomp;
  if (spec.linux.seccomp) seccomp = BERTH_TRY(compile_seccomp_cached(*spec.linux.seccomp, seccomp_cache_dir(g)));
  std::string proc = "/proc/" + std::to_string(s.pid);
  std::vector<UniqueFd> keep;
  std::vector<std::pair<int, int>> joins;
  UniqueFd self_user(::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC));
  for (const auto& n : kOrder) {
    if (!spec.has_namespace(n.type)) continue;
    UniqueFd fd(::open((proc + "/ns/" + n.file).c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::os(std::string("open ") + proc + "/ns/" + n.file);
    joins.emplace_back(fd.get(), n.type);
    keep.push_back(std::move(fd));
  }
  if (spec.has_namespace(CLONE_NEWPID)) {
    UniqueFd fd(::open((proc + "/ns/pid").c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd || Kernel::host().setns(fd.get(), CLONE_NEWPID) < 0) return Error::os("join pid namespace of " + o.id);
  }
  UniqueFd root(::open((proc + "/root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return Error::os("open " + proc + "/root");
  UniqueFd console, ours;
  if (o.process.terminal && o.console_fd >= 0) {
    console = UniqueFd(::fcntl(o.console_fd, F_DUPFD_CLOEXEC, 0));
    if (!console) return Error::os("dup console socket");
  } else if (o.process.terminal && o.console_socket.empty()) {
    // In the foreground without a console socket we serve the pty ourselves.
    int pv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pv) < 0) return Error::os("socketpair for the terminal");
    ours = UniqueFd(pv[0]);
    console = UniqueFd(pv[1]);
  } else if (o.process.terminal) {
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    if (o.console_socket.size() >= sizeof addr.sun_path) return Error::msg("--console-socket: path too long");
    std::copy(o.console_socket.begin(), o.console_socket.end(), addr.sun_path);
    if (!fd || ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
      return Error::os("connect console socket " + o.console_socket);
    console = std::move(fd);
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return Error::os("socketpair");
  UniqueFd parent_sock(sv[0]), child_sock(sv[1]);

  pid_t child = ::fork();
  if (child < 0) return Error::os("fork");
  if (child == 0) {
    parent_sock.reset();
    ExecChild c{&o,    &spec,      &Kernel::host(), seccomp ? &*seccomp : nullptr,
                joins, root.get(), console.get(),   child_sock.get()};
    auto st = exec_child_steps(c);
    if (st) st = exec_process(c.o->process);
    (void)sync_send(c.sync_fd, Sync::error, st.error().what());
    ::_exit(127);
  }
  child_sock.reset();
  console.reset();
  Defer reap([&] {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  });
  auto cg = BERTH_TRY(cgroup_manager(g, s));
  if (!o.sub_cgroup.empty()) {
    BERTH_TRY_CTX(join_sub_cgroup(g, *cg, o.sub_cgroup, false, child), "--cgroup " + o.sub_cgroup);
  } else if (auto st = cg->enter(child); !st) {
    if (st.error().code() != EBUSY) return std::move(st).error().wrap("join cgroup of " + o.id);
    if (!o.busy_leaf.empty())
      BERTH_TRY_CTX(join_sub_cgroup(g, *cg, o.busy_leaf, true, child), "join cgroup " + o.busy_leaf + " of " + o.id);
    else BERTH_TRY_CTX(join_init_cgroup(g, s.pid, child), "join cgroup of " + o.id + "'s init");
  }
  PrivateProcfs procfs;
  BERTH_TRY_CTX(write_oom_score_adj(procfs, child, o.process), "exec in " + o.id);
  BERTH_TRY(sync_send(parent_sock.get(), Sync::go));
  bool ready = false;
  for (;;) {
    auto msg = sync_recv(parent_sock.get());
    if (!msg) {
      if (ready && msg.error().code() == EPIPE) break;  // execve closed the socket
      return std::move(msg).error().wrap("exec in " + o.id);
    }
    if (msg->kind == Sync::error) return Error::msg(msg->payload).wrap("exec in " + o.id);
    if (msg->kind == Sync::ready) ready = true;
    if (msg->kind == Sync::seccomp_fd) BERTH_TRY(forward_seccomp_fd(spec, json::dump(state_json(s)), msg.value(), parent_sock.get()));
  }
  if (!o.pidfd_socket.empty()) BERTH_TRY_CTX(send_pidfd(o.pidfd_socket, child), "--pidfd-socket");
  reap.dismiss();
  if (!o.pid_file.empty()) BERTH_TRY_CTX(fs::write_file_atomic(fs::absolute(o.pid_file), std::to_string(child)), "--pid-file");
  if (o.detach) return 0;
  UniqueFd master = ours ? receive_master(ours.get()) : UniqueFd();
  return wait_forwarding_signals(child, master.get());
}

}  // namespace berth::runtime
