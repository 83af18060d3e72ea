// init.cpp — the container init's create-time sequence, as named steps.
// Runs in the cloned child; every failure goes back to the runtime as a
// Sync::error message, then the child exits.
#include <fcntl.h>
#include <sched.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/fs.h"
#include "internal.h"
#include "linux_compat.h"

namespace berth::runtime {
namespace {

// Joined namespaces first, user namespace before the rest (it owns them).
berth::Status join_namespaces(const InitContext& ctx) {
  for (const auto& [fd, type] : ctx.join_ns)
    if (ctx.kernel->setns(fd, type) < 0) return Error::os(std::string("setns ") + std::to_string(type));
  return {};
}

// After the runtime wrote our id maps: become root of the user namespace.
berth::Status become_root_in_userns(Kernel& k, const Spec& spec) {
  if (!spec.has_namespace(CLONE_NEWUSER)) return {};
  if (k.setresgid(0, 0, 0) < 0) return Error::os("setresgid 0 in user namespace");
  if (k.setresuid(0, 0, 0) < 0) return Error::os("setresuid 0 in user namespace");
  return {};
}

// Unshared only now, so that the cgroup namespace is rooted at the
// container's cgroup, which the runtime moved us into before Sync::go. The
// time namespace's offsets are written by the runtime (our own
// timens_offsets is the host root's: we are not dumpable) before we enter it.
berth::Status unshare_late_namespaces(Kernel& k, const Spec& spec, int sync_fd) {
  const Namespace* cg = spec.find_namespace(CLONE_NEWCGROUP);
  if (cg && cg->path.empty() && k.unshare(CLONE_NEWCGROUP) < 0) return Error::os("unshare cgroup namespace");
  const Namespace* tn = spec.find_namespace(CLONE_NEWTIME);
  if (tn && tn->path.empty()) {
    if (k.unshare(CLONE_NEWTIME) < 0) return Error::os("unshare time namespace");
    if (!spec.linux.time_offsets.empty()) {
      BERTH_TRY(sync_send(sync_fd, Sync::time_offsets));
      auto reply = BERTH_TRY(sync_recv(sync_fd));
      if (reply.kind == Sync::error) return Error::msg(reply.payload);
      if (reply.kind != Sync::ack) return Error::msg("unexpected message from runtime");
    }
    UniqueFd fd(::open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC));
    if (!fd || k.setns(fd.get(), CLONE_NEWTIME) < 0) return Error::os("enter time namespace");
  }
  return {};
}

berth::Status set_names(Kernel& k, const Spec& spec) {
  if (!spec.hostname.empty() && k.sethostname(spec.hostname) < 0)
    return Error::os("hostname: sethostname " + spec.hostname);
  if (!spec.domainname.empty() && k.setdomainname(spec.domainname) < 0)
    return Error::os("domainname: setdomainname " + spec.domainname);
  return {};
}

// Each container gets its own session keyring, so keys never leak between
// containers (unless --no-new-keyring).
void join_new_keyring(Kernel& k, const CreateOptions& o) {
  if (o.no_new_keyring) return;
  std::string name = "_ses." + o.id;
  // EPERM/ENOSYS (keyrings disabled or restricted) is not fatal, as with runc.
  (void)k.join_session_keyring(name.c_str());
}

berth::Status set_personality(Kernel& k, const Spec& spec) {
  if (!spec.linux.personality) return {};
  unsigned long dom = *spec.linux.personality == "LINUX32" ? PER_LINUX32 : PER_LINUX;
  if (k.personality(dom) < 0) return Error::os("linux.personality: personality " + *spec.linux.personality);
  return {};
}

bool is_null_device(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3); }

// Stdio on the host's null device (an engine's stdin, conmon's) is
// reopened on the container's own /dev/null, as runc does: a descriptor of
// a file on a mount outside the container cannot be checkpointed by CRIU
// ("Can't lookup mount"). A /dev/null inside that is not the null device
// leaves the host's in place.
void reopen_dev_null() {
  bool any = false;
  struct stat st;
  for (int fd = 0; fd < 3; ++fd) any = any || (::fstat(fd, &st) == 0 && is_null_device(st));
  if (!any) return;
  UniqueFd null(::open("/dev/null", O_RDWR | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC));
  if (!null || ::fstat(null.get(), &st) < 0 || !is_null_device(st)) return;
  for (int fd = 0; fd < 3; ++fd)
    if (::fstat(fd, &st) == 0 && is_null_device(st)) ::dup3(null.get(), fd, 0);
}

}  // namespace

berth::Status init_create_steps(InitContext& ctx) {
  const Spec& spec = *ctx.spec;
  Kernel& k = *ctx.kernel;
  // Other processes in the container must not reach this (host) binary
  // through /proc/<pid>/exe or ptrace while we set up (CVE-2019-5736).
  if (k.prctl(PR_SET_DUMPABLE, 0, 0) < 0) return Error::os("prctl PR_SET_DUMPABLE");
  auto go = BERTH_TRY(sync_recv(ctx.sync_fd));
  if (go.kind != Sync::go) return Error::msg("unexpected message from runtime");
  ctx.state_json = std::move(go.payload);
  if (k.setsid() < 0) return Error::os("setsid");
  BERTH_TRY(become_root_in_userns(k, spec));
  BERTH_TRY(join_namespaces(ctx));
  BERTH_TRY(unshare_late_namespaces(k, spec, ctx.sync_fd));
  BERTH_TRY(set_names(k, spec));
  join_new_keyring(k, *ctx.opts);
  if (spec.has_namespace(CLONE_NEWNS)) BERTH_TRY(prepare_rootfs(ctx));
  BERTH_TRY(sync_send(ctx.sync_fd, Sync::hooks));
  auto done = BERTH_TRY(sync_recv(ctx.sync_fd));
  if (done.kind == Sync::error) return Error::msg(done.payload);
  BERTH_TRY(run_hooks(spec.hooks.create_container, "createContainer", ctx.state_json));
  if (spec.has_namespace(CLONE_NEWNS)) {
    BERTH_TRY(pivot_into_rootfs(k, spec, ctx.opts->no_pivot));
    BERTH_TRY(finish_rootfs(ctx));
    reopen_dev_null();
  }
  if (!spec.has_namespace(CLONE_NEWNS) && !spec.linux.sysctl.empty()) {
    int proc = BERTH_TRY_CTX(ctx.procfs.fd(), "linux.sysctl");
    BERTH_TRY(write_sysctls(spec, proc));
  }
  BERTH_TRY(set_personality(k, spec));
  if (ctx.console_fd >= 0) {
    BERTH_TRY(setup_console(k, ctx.console_fd, *spec.process, spec.has_namespace(CLONE_NEWNS)));
    ::close(ctx.console_fd);
  }
  BERTH_TRY(prepare_process(k, *spec.process, ctx.seccomp, ctx.opts->preserve_fds, ctx.sync_fd));
  return {};
}

[[noreturn]] void init_main(InitContext& ctx) {
  auto st = init_create_steps(ctx);
  if (!st) {
    (void)sync_send(ctx.sync_fd, Sync::error, st.error().what());
    ::_exit(1);
  }
  if (!sync_send(ctx.sync_fd, Sync::ready)) ::_exit(1);
  ::close(ctx.sync_fd);
  // Block until `start` writes into the fifo.
  char c;
  ssize_t n;
  do {
    n = ::read(ctx.fifo_fd, &c, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1) ::_exit(1);
  ::close(ctx.fifo_fd);
  auto fin = run_hooks(ctx.spec->hooks.start_container, "startContainer", ctx.state_json);
  if (fin) fin = exec_process(*ctx.spec->process);
  // No one is listening any more: report on stderr, which is the container's.
  std::string msg = "berth-runtime: start container: " + fin.error().what() + "\n";
  ssize_t r = ::write(2, msg.data(), msg.size());
  (void)r;
  ::_exit(127);
}

}  // namespace berth::runtime
