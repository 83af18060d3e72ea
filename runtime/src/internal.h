// internal.h — declarations shared by the runtime's source files.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "berth/cgroups/manager.h"
#include "berth/runtime/container.h"
#include "kernel.h"
#include "security.h"

namespace berth::runtime {

// ---- state ----------------------------------------------------------------
std::string state_dir(const Globals& g, const std::string& id);
/// The compiled seccomp programs, beside the containers' state: '@' is no
/// character of a container id, so no container's directory can be it.
std::string seccomp_cache_dir(const Globals& g);
berth::Status save_state(const Globals& g, const State& s);
Result<State> read_state_file(const Globals& g, const std::string& id);
Result<std::unique_ptr<cgroups::Manager>> cgroup_manager(const Globals& g, const State& s);

struct ProcInfo {
  bool exists = false;
  char state = 0;
  unsigned long long start_time = 0;
};
/// Reads /proc/<pid>/stat: run state and start time.
ProcInfo proc_info(pid_t pid);
/// Alive, not a zombie, and (when start_time != 0) the same process.
bool process_alive(pid_t pid, unsigned long long start_time);

// ---- hooks ----------------------------------------------------------------
/// Runs hooks in order with the state JSON on stdin; a hook failing or
/// passing its timeout is an error naming the hook kind and index.
berth::Status run_hooks(const std::vector<Hook>& hooks, const std::string& kind, const std::string& state_json);
/// poststart/poststop: a failing hook is a warning and the rest still run
/// (runtime-spec).
void run_hooks_warning(const std::vector<Hook>& hooks, const std::string& kind, const std::string& state_json);
Result<std::vector<Hook>> hooks_from_json(const json::Value& v);
json::Value hooks_to_json(const std::vector<Hook>& hooks);

// ---- child side -----------------------------------------------------------
/// Messages on the sync socket between the runtime and the child.
enum class Sync : uint8_t {
  go = 1,          // parent -> child: maps written, cgroup joined
  hooks = 2,       // child -> parent: run createRuntime/prestart now
  hooks_done = 3,  // parent -> child
  ready = 4,       // child -> parent: waiting for start
  error = 5,       // child -> parent: followed by the message text
  seccomp_fd = 6,  // child -> parent: the seccomp notify fd (SCM_RIGHTS)
  ack = 7,         // parent -> child
  time_offsets = 8,  // child -> parent: time namespace unshared, write its offsets
};
struct SyncMsg {
  Sync kind;
  std::string payload;
  UniqueFd fd;  // passed with SCM_RIGHTS, if any
};
berth::Status sync_send(int fd, Sync s, std::string_view payload = {}, int pass_fd = -1);
Result<SyncMsg> sync_recv(int fd);

/// A stream socket connected to the unix socket at `path`; `what` names it
/// in errors ("console socket").
Result<UniqueFd> connect_unix(const std::string& path, const std::string& what);
/// Sends a pidfd of `pid` over the unix socket at `socket_path` with
/// SCM_RIGHTS (the data is "pidfd"), as runc's --pidfd-socket does.
berth::Status send_pidfd(const std::string& socket_path, pid_t pid);

// ---- procfs (CVE-2025-52881) ----------------------------------------------
/// A procfs of the caller's pid namespace that no container can mount
/// anything on: a new instance made with fsopen/fsmount and attached
/// nowhere or, where that cannot be made, a non-recursive clone of /proc
/// (open_tree), which leaves out whatever is mounted inside it; checked to
/// be the root of a procfs.
Result<UniqueFd> open_private_procfs();
/// Opens `rel` ("sys/net/core/somaxconn", "self/oom_score_adj",
/// "thread-self/attr/exec") under a handle of open_private_procfs: a
/// leading self/ or thread-self/ is the caller's own entry as that procfs
/// names it; the rest is resolved with openat2 RESOLVE_BENEATH|NO_XDEV|
/// NO_SYMLINKS|NO_MAGICLINKS, and the file checked to be on procfs.
Result<UniqueFd> open_proc_file(int proc_fd, const std::string& rel, int flags);
/// Writes `value` to `rel` (open_proc_file) in one write.
berth::Status write_proc_file(int proc_fd, const std::string& rel, std::string_view value);

/// open_private_procfs made on first use (about 60 us): most containers
/// write nothing to procfs. Use it after the namespaces are joined.
class PrivateProcfs {
 public:
  Result<int> fd() {
    if (!fd_) fd_ = BERTH_TRY(open_private_procfs());
    return fd_.get();
  }

 private:
  UniqueFd fd_;
};

// The runtime writes these to the /proc files of the process it made (the
// init, an exec'd process) before that process goes on: the process is
// not dumpable (CVE-2019-5736), so in a user namespace its own /proc files
// belong to the host's root and it could not write them itself (runc and
// crun write them from outside the user namespace too).

/// process.oomScoreAdj of `pid`, through `procfs` (the runtime's own).
berth::Status write_oom_score_adj(PrivateProcfs& procfs, pid_t pid, const Process& p);
/// linux.timeOffsets into the time namespace `pid` unshared for its
/// children (its timens_offsets), before any process has entered it.
berth::Status write_time_offsets(PrivateProcfs& procfs, pid_t pid, const Spec& spec);

// ---- create ----------------------------------------------------------------
/// Opens linux.namespaces' paths before clone: the pid namespace is joined
/// here (setns(CLONE_NEWPID) only affects children), the others are
/// returned as (fd, CLONE_NEW*) for the init to join, user first (it owns
/// the rest). `keep` holds the fds open.
Result<std::vector<std::pair<int, int>>> open_join_namespaces(Kernel& k, const Spec& spec, std::vector<UniqueFd>& keep);
/// The state of a container being made from `spec` (pid not yet known).
State new_state(const Globals& g, const Spec& spec, const std::string& id, const std::string& bundle);
/// Makes the container's cgroup (`cg`, set even on failure, for cleanup)
/// with linux.resources and the devices every container has, and hands it
/// to the container's root when it has user and cgroup namespaces.
berth::Status make_cgroup(const Globals& g, const State& s, const Spec& spec, std::unique_ptr<cgroups::Manager>& cg);
/// run's foreground: the pty master sent over `sock`, if any; then waiting
/// for `pid` while forwarding signals (and the terminal), its exit status.
UniqueFd receive_master(int sock);
Result<int> wait_forwarding_signals(pid_t pid, int master);

/// The CLONE_NEW* flags of the namespaces the init is cloned into: neither
/// joined ones nor cgroup and time, which the init unshares later.
int new_namespace_flags(const Spec& spec);

/// Everything the child needs, prepared by the parent before clone.
struct InitContext {
  Kernel* kernel = &Kernel::host();  // a recording fake in unit tests
  const Spec* spec = nullptr;
  const CreateOptions* opts = nullptr;
  const SeccompProgram* seccomp = nullptr;  // linux.seccomp, compiled
  int sync_fd = -1;
  int fifo_fd = -1;            // exec.fifo opened O_RDWR (-1 for exec)
  int console_fd = -1;         // connected console socket, or -1
  int devnull_fd = -1;         // host /dev/null, for masking
  PrivateProcfs procfs;        // for the init's own procfs writes
  std::vector<int> idmap_fds;  // per mount: a detached idmapped tree, or -1
  std::vector<std::pair<int, int>> join_ns;  // (fd, CLONE_NEW*) to setns
  int clone_flags = 0;
  bool host_cgroup_v1 = false;  // hybrid host: mount v1 hierarchies for "cgroup"
  std::string state_json;       // for hooks run by the child
};

/// The container init's create-time steps, from Sync::go to the process
/// prepared for execve (init_main then reports Sync::ready and waits for
/// start); the first failure is returned, naming its step.
berth::Status init_create_steps(InitContext& ctx);
/// Runs init_create_steps and the start; never returns (calls _exit).
[[noreturn]] void init_main(InitContext& ctx);

/// What the forked child of `exec` needs, prepared before the fork.
struct ExecChild {
  const ExecOptions* o;
  const Spec* spec;
  Kernel* kernel;
  const SeccompProgram* seccomp;           // linux.seccomp, compiled (nullptr: none)
  std::vector<std::pair<int, int>> joins;  // (fd, CLONE_NEW*), user first; pid joined before the fork
  int root_fd;                             // the container's root (/proc/PID/root)
  int console_fd;
  int sync_fd;
};
/// The exec child's steps, from Sync::go to Sync::ready: not dumpable,
/// namespaces joined, chroot into the container's root, a session (or the
/// console), prepare_process. The caller then execs the process.
berth::Status exec_child_steps(ExecChild& c);

/// Steps shared by init and exec before execve: rlimits, scheduling, fds,
/// identity, capabilities, no_new_privs, seccomp (a notify fd goes to the
/// runtime over `sync_fd`).
/// `seccomp` is the profile compiled before clone/fork (nullptr: none).
berth::Status prepare_process(Kernel& k, const Process& p, const SeccompProgram* seccomp, int preserve_fds,
                              int sync_fd);
/// Whether the host kernel has AppArmor enabled.
bool apparmor_enabled();
/// execve of the process (PATH looked up in its env); returns only on failure.
berth::Status exec_process(const Process& p);
/// The runtime side of Sync::seccomp_fd: hands the fd to the listener.
berth::Status forward_seccomp_fd(const Spec& spec, const std::string& state_json, SyncMsg& msg, int sync_fd);

/// Allocates a pty in the current mount namespace, sends the master over
/// `console_fd`, and makes the slave the caller's controlling terminal and stdio.
berth::Status setup_console(Kernel& k, int console_fd, const Process& p, bool mount_console);

/// Resolves `rel` under `root_fd` without escaping it (openat2 RESOLVE_IN_ROOT).
Result<UniqueFd> open_in_root(int root_fd, const std::string& rel, int flags, bool nofollow_last = false);

/// Writes linux.sysctl through the procfs handle `proc_fd`: the values
/// land in the caller's (the container's) namespaces, whichever procfs
/// instance names the files.
berth::Status write_sysctls(const Spec& spec, int proc_fd);

/// uid_map/gid_map text ("inside outside count" lines).
std::string mapping_text(const std::vector<IdMapping>& maps);

/// Per mount of `spec`: a detached, idmapped copy of each idmapped bind
/// mount's source (uidMappings/gidMappings, or the container's own for a
/// bare "idmap" option); an empty fd for every other mount.
Result<std::vector<UniqueFd>> make_idmapped_trees(Kernel& k, const Spec& spec, const std::string& bundle);

/// Sets up the rootfs inside the new mount namespace, up to (not including)
/// pivot_root. Returns an fd of the rootfs.
berth::Status prepare_rootfs(InitContext& ctx);
berth::Status pivot_into_rootfs(Kernel& k, const Spec& spec, bool no_pivot);
berth::Status finish_rootfs(InitContext& ctx);

}  // namespace berth::runtime
