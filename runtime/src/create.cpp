// create.cpp — the runtime side of `create`: state dir, cgroup, clone of the
// container init, uid/gid maps, hooks, and the state file.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/cgroups/manager.h"
#include "berth/runtime/sealed_exe.h"
#include "internal.h"
#include "linux_compat.h"

namespace berth::runtime {
namespace {

berth::Status write_id_maps(PrivateProcfs& procfs, pid_t pid, const Spec& spec) {
  int proc = BERTH_TRY_CTX(procfs.fd(), "linux.uidMappings");
  std::string base = std::to_string(pid);
  BERTH_TRY_CTX(write_proc_file(proc, base + "/uid_map", mapping_text(spec.linux.uid_mappings)), "linux.uidMappings");
  BERTH_TRY_CTX(write_proc_file(proc, base + "/gid_map", mapping_text(spec.linux.gid_mappings)), "linux.gidMappings");
  return {};
}

pid_t clone_child(int flags) {
  return static_cast<pid_t>(::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0));
}

// struct clone_args of clone3(2), up to its cgroup member (version 2).
struct CloneArgs {
  uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls, set_tid, set_tid_size, cgroup;
};
constexpr uint64_t kCloneIntoCgroup = 0x200000000ULL;

// The init cloned straight into its cgroup (clone3 CLONE_INTO_CGROUP, cgroup
// v2, Linux 5.7): no migration through cgroup.procs follows, whose cost is
// the cgroup core's global lock. -1 with errno when the kernel refuses.
pid_t clone_into_cgroup(int flags, int cgroup_fd) {
  CloneArgs a{};
  a.flags = static_cast<uint64_t>(static_cast<unsigned>(flags)) | kCloneIntoCgroup;
  a.exit_signal = SIGCHLD;
  a.cgroup = static_cast<uint64_t>(cgroup_fd);
  return static_cast<pid_t>(::syscall(SYS_clone3, &a, sizeof a));
}

std::string bundle_rootfs(const Spec& spec) { return spec.root_path; }

// The host id that `id` inside maps to, if the mappings cover it.
std::optional<uint32_t> host_id_of(const std::vector<IdMapping>& maps, uint32_t id) {
  for (const auto& m : maps)
    if (id >= m.container_id && id - m.container_id < m.size) return m.host_id + (id - m.container_id);
  return std::nullopt;
}

// A container with user and cgroup namespaces of its own owns its cgroup
// (v2, or the cgroup2 mirror on hybrid hosts): its root may make
// sub-groups and move its processes among them, as systemd as PID 1 does.
// The limits stay the host's: their files are not handed over.
berth::Status delegate_cgroup(const Spec& spec, cgroups::Manager& cg) {
  const Namespace* user = spec.find_namespace(CLONE_NEWUSER);
  if (!user || !user->path.empty() || !spec.has_namespace(CLONE_NEWCGROUP)) return {};
  auto uid = host_id_of(spec.linux.uid_mappings, 0);
  auto gid = host_id_of(spec.linux.gid_mappings, 0);
  if (!uid || !gid) return {};  // no root inside: nothing to hand over
  return cg.delegate(*uid, *gid);
}

// The device rules the cgroup gets: the config's own, then (as runc does)
// the devices every container has, mknod of anything, and the config's
// linux.devices, so that the default devices can be created and used.
cgroups::Resources effective_resources(const Spec& spec) {
  cgroups::Resources r = spec.linux.resources.value_or(cgroups::Resources{});
  if (r.devices.empty()) return r;
  auto allow = [&](char type, std::optional<int64_t> major, std::optional<int64_t> minor, const char* access) {
    cgroups::DeviceRule d;
    d.allow = true;
    d.type = type;
    d.major = major;
    d.minor = minor;
    d.access = access;
    r.devices.push_back(d);
  };
  allow('c', std::nullopt, std::nullopt, "m");
  allow('b', std::nullopt, std::nullopt, "m");
  const std::pair<int, int> defaults[] = {{1, 3}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {5, 0}, {5, 1}, {5, 2}};
  for (auto [ma, mi] : defaults) allow('c', ma, mi, "rwm");
  allow('c', 136, std::nullopt, "rwm");  // /dev/pts/*
  for (const auto& d : spec.linux.devices)
    if (d.type == 'c' || d.type == 'b' || d.type == 'u') allow(d.type == 'u' ? 'c' : d.type, d.major, d.minor, "rwm");
  return r;
}

}  // namespace

State new_state(const Globals& g, const Spec& spec, const std::string& id, const std::string& bundle) {
  State state;
  state.oci_version = spec.oci_version;
  state.id = id;
  state.bundle = bundle;
  state.rootfs = bundle_rootfs(spec);
  state.created = log::rfc3339_now();
  state.owner = "";
  state.annotations = spec.annotations;
  state.cgroup_path = spec.linux.cgroups_path;
  state.systemd_cgroup = g.systemd_cgroup;
  if (!spec.hooks.poststop.empty()) state.poststop = hooks_to_json(spec.hooks.poststop);
  state.poststart = hooks_to_json(spec.hooks.poststart);
  return state;
}

berth::Status make_cgroup(const Globals& g, const State& s, const Spec& spec, std::unique_ptr<cgroups::Manager>& cg) {
  cg = BERTH_TRY_CTX(cgroup_manager(g, s), "linux.cgroupsPath");
  auto made = cg->create();
  // A delete of the last container may remove the shared default parent
  // between our mkdirs: try once more.
  if (!made && made.error().code() == ENOENT) made = cg->create();
  if (!made) return std::move(made).error().wrap("create cgroup");
  BERTH_TRY_CTX(cg->set(effective_resources(spec)), "linux.resources");
  return delegate_cgroup(spec, *cg);
}

Result<std::vector<std::pair<int, int>>> open_join_namespaces(Kernel& k, const Spec& spec,
                                                              std::vector<UniqueFd>& keep) {
  std::vector<std::pair<int, int>> out;
  for (const auto& ns : spec.linux.namespaces) {
    if (ns.path.empty()) continue;
    UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Error::os("linux.namespaces " + ns.name + ": open " + ns.path);
    if (ns.type == CLONE_NEWPID) {
      if (k.setns(fd.get(), CLONE_NEWPID) < 0) return Error::os("linux.namespaces pid: setns " + ns.path);
      keep.push_back(std::move(fd));
      continue;
    }
    // The user namespace goes first: it owns the others.
    if (ns.type == CLONE_NEWUSER) out.insert(out.begin(), {fd.get(), ns.type});
    else out.emplace_back(fd.get(), ns.type);
    keep.push_back(std::move(fd));
  }
  return out;
}

int new_namespace_flags(const Spec& spec) {
  int flags = 0;
  for (const auto& ns : spec.linux.namespaces) {
    if (!ns.path.empty()) continue;
    // cgroup and time namespaces are unshared by the child later: the cgroup
    // namespace must be rooted at the container's cgroup, and time offsets
    // must be written before any process enters the time namespace.
    if (ns.type == CLONE_NEWCGROUP || ns.type == CLONE_NEWTIME) continue;
    flags |= ns.type;
  }
  return flags;
}

berth::Status create_impl(const Globals& g, const CreateOptions& o, pid_t* child_out) {
  BERTH_TRY(validate_id(o.id));
  BERTH_TRY(require_sealed_exe());  // the init is a clone of this process
  std::string bundle = fs::absolute(o.bundle);
  auto text = fs::read_file(fs::join(bundle, "config.json"));
  if (!text) return std::move(text).error().wrap("load bundle " + bundle);
  Spec spec = BERTH_TRY_CTX(parse_spec(*text, bundle), fs::join(bundle, "config.json"));
  if (!spec.process) return Error::msg("process: required to create a container");
  if (spec.linux.intel_rdt) return Error::msg("linux.intelRdt: not supported by this runtime (no resctrl support)");
  if (!spec.process->apparmor_profile.empty() && !apparmor_enabled())
    return Error::msg("process.apparmorProfile: AppArmor is not enabled on this host");
  if (!spec.process->selinux_label.empty())
    return Error::msg("process.selinuxLabel: SELinux is not supported by this runtime");
  // linux.mountLabel only labels mounts: without SELinux there is nothing
  // to label, and it is ignored (as crun does).
  if (!spec.linux.mount_label.empty() && ::access("/sys/fs/selinux/enforce", F_OK) == 0)
    return Error::msg("linux.mountLabel: SELinux is not supported by this runtime");
  struct stat st;
  if (::stat(spec.root_path.c_str(), &st) < 0) return Error::os("root.path: stat " + spec.root_path);
  if (!S_ISDIR(st.st_mode)) return Error(ENOTDIR, "root.path: " + spec.root_path);
  if (spec.process->terminal && o.console_socket.empty() && o.console_fd < 0)
    return Error::msg("process.terminal: needs --console-socket (or a foreground run)");

  BERTH_TRY(fs::mkdir_p(g.root, 0700));
  // Compiled before anything is made: a bad profile leaves nothing behind,
  // and the init loads the program without compiling it.
  std::optional<SeccompProgram> seccomp;
  if (spec.linux.seccomp) seccomp = BERTH_TRY(compile_seccomp_cached(*spec.linux.seccomp, seccomp_cache_dir(g)));
  std::string dir = state_dir(g, o.id);
  if (::mkdir(dir.c_str(), 0711) < 0) {
    if (errno == EEXIST) return Error(EEXIST, "container " + o.id + " already exists");
    return Error::os("mkdir " + dir);
  }
  bool committed = false;
  std::unique_ptr<cgroups::Manager> cg;
  pid_t child = -1;
  Defer cleanup([&] {
    if (committed) return;
    if (child > 0) {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
    }
    if (cg) {
      (void)cg->kill_all(SIGKILL);
      for (int i = 0; i < 100 && !cg->destroy(); ++i) ::usleep(1000);
    }
    (void)fs::remove_tree(dir);
  });

  std::string fifo = fs::join(dir, "exec.fifo");
  if (::mkfifo(fifo.c_str(), 0600) < 0) return Error::os("mkfifo " + fifo);
  UniqueFd fifo_fd(::open(fifo.c_str(), O_RDWR | O_CLOEXEC));
  if (!fifo_fd) return Error::os("open " + fifo);

  State state = new_state(g, spec, o.id, bundle);
  BERTH_TRY(make_cgroup(g, state, spec, cg));

  UniqueFd console;
  if (spec.process->terminal && !o.console_socket.empty())
    console = BERTH_TRY(connect_unix(o.console_socket, "console socket"));
  else if (spec.process->terminal && o.console_fd >= 0)
    console = UniqueFd(::fcntl(o.console_fd, F_DUPFD_CLOEXEC, 3));

  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) return Error::os("socketpair");
  UniqueFd parent_sock(sv[0]), child_sock(sv[1]);

  auto idmapped = BERTH_TRY(make_idmapped_trees(Kernel::host(), spec, bundle));
  std::vector<UniqueFd> ns_fds;
  auto joins = BERTH_TRY(open_join_namespaces(Kernel::host(), spec, ns_fds));

  InitContext ctx;
  ctx.spec = &spec;
  ctx.opts = &o;
  ctx.seccomp = seccomp ? &*seccomp : nullptr;
  ctx.sync_fd = child_sock.get();
  ctx.fifo_fd = fifo_fd.get();
  ctx.console_fd = console.get();
  ctx.join_ns = joins;
  for (const auto& fd : idmapped) ctx.idmap_fds.push_back(fd.get());
  ctx.clone_flags = new_namespace_flags(spec);
  auto layout = cgroups::detect_layout(g.cgroup_root);
  ctx.host_cgroup_v1 = layout && *layout != cgroups::Layout::unified;

  // On v2 with the cgroupfs driver the cgroup exists now: the init starts
  // in it. (systemd's driver makes it only when given the init's pid.)
  bool in_cgroup = false;
  if (layout && *layout == cgroups::Layout::unified && !g.systemd_cgroup) {
    UniqueFd dir(::open((g.cgroup_root + cg->relative_path()).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir) {
      child = clone_into_cgroup(ctx.clone_flags, dir.get());
      in_cgroup = child >= 0;
    }
  }
  // Any refusal of clone3 (an older kernel, a seccomp filter around us
  // answering ENOSYS) leaves the plain clone and a join.
  if (!in_cgroup) child = clone_child(ctx.clone_flags);
  if (child < 0) return Error::os("clone container init");
  if (child == 0) {
    parent_sock.reset();
    init_main(ctx);
  }
  child_sock.reset();
  fifo_fd.reset();
  console.reset();
  idmapped.clear();

  state.pid = child;
  state.start_time = proc_info(child).start_time;
  state.status = ContainerStatus::creating;

  PrivateProcfs procfs;  // the runtime's, for the child's /proc files
  if (ctx.clone_flags & CLONE_NEWUSER) BERTH_TRY(write_id_maps(procfs, child, spec));
  BERTH_TRY(write_oom_score_adj(procfs, child, *spec.process));
  if (!in_cgroup) BERTH_TRY_CTX(cg->enter(child), "join cgroup");
  state.status = ContainerStatus::created;
  BERTH_TRY(sync_send(parent_sock.get(), Sync::go, json::dump(state_json(state))));
  state.status = ContainerStatus::creating;

  for (;;) {
    auto msg = sync_recv(parent_sock.get());
    if (!msg) return std::move(msg).error().wrap("container init");
    Sync kind = msg->kind;
    if (kind == Sync::error) return Error::msg(msg->payload);
    if (kind == Sync::seccomp_fd) {
      BERTH_TRY(forward_seccomp_fd(spec, json::dump(state_json(state)), msg.value(), parent_sock.get()));
      continue;
    }
    if (kind == Sync::time_offsets) {
      BERTH_TRY(write_time_offsets(procfs, child, spec));
      BERTH_TRY(sync_send(parent_sock.get(), Sync::ack));
      continue;
    }
    if (kind == Sync::hooks) {
      // Hooks see the container as "created" (what the suite and crun expect).
      state.status = ContainerStatus::created;
      std::string sj = json::dump(state_json(state));
      state.status = ContainerStatus::creating;
      BERTH_TRY(run_hooks(spec.hooks.prestart, "prestart", sj));
      BERTH_TRY(run_hooks(spec.hooks.create_runtime, "createRuntime", sj));
      BERTH_TRY(sync_send(parent_sock.get(), Sync::hooks_done));
      continue;
    }
    if (kind == Sync::ready) break;
    return Error::msg("container init: unexpected message");
  }

  BERTH_TRY(save_state(g, state));
  if (!o.pidfd_socket.empty()) BERTH_TRY_CTX(send_pidfd(o.pidfd_socket, child), "--pidfd-socket");
  if (!o.pid_file.empty())
    BERTH_TRY_CTX(fs::write_file_atomic(fs::absolute(o.pid_file), std::to_string(child), 0644), "--pid-file");
  committed = true;
  if (child_out) *child_out = child;
  return {};
}

berth::Status create(const Globals& g, const CreateOptions& o) {
  return create_impl(g, o, nullptr);
}

}  // namespace berth::runtime
