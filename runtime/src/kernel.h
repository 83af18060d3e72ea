// kernel.h — the runtime's kernel verbs behind one narrow interface, so that
// the rootfs, init and process sequences can be driven by a recording fake
// in unit tests (tests/unit/runtime/fake_kernel.h) without root.
#pragma once

#include <linux/capability.h>
#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/types.h>

#include <cstdint>
#include <string_view>

namespace berth::runtime {

/// struct mount_attr of mount_setattr(2).
struct MountAttr {
  uint64_t attr_set = 0, attr_clr = 0, propagation = 0, userns_fd = 0;
};

/// struct sched_attr of sched_setattr(2) (version 1, 48 bytes).
struct SchedAttr {
  uint32_t size = 48;
  uint32_t sched_policy = 0;
  uint64_t sched_flags = 0;
  int32_t sched_nice = 0;
  uint32_t sched_priority = 0;
  uint64_t sched_runtime = 0, sched_deadline = 0, sched_period = 0;
};

/// One verb per system call, with the system call's own arguments and
/// result: 0 (or an fd, or the old value) on success, -1 with errno set on
/// failure. Callers turn errno into an Error at the call site, naming the
/// object, as they did with the bare calls. The host implementation does
/// nothing but make the call: no retries, no checks, no logging, so that
/// what the tests record is what the kernel is asked.
class Kernel {
public:
  virtual ~Kernel() = default;

  /// The running kernel (a process-wide instance).
  static Kernel& host();

  // Mounts.
  virtual int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
                    const void* data) = 0;
  virtual int umount2(const char* target, int flags) = 0;
  virtual int open_tree(int dirfd, const char* path, unsigned flags) = 0;
  virtual int move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path, unsigned flags) = 0;
  virtual int mount_setattr(int dirfd, const char* path, unsigned flags, const MountAttr& attr) = 0;
  virtual int pivot_root(const char* new_root, const char* put_old) = 0;
  virtual int chroot(const char* path) = 0;
  virtual int chdir(const char* path) = 0;
  virtual int fchdir(int fd) = 0;
  /// The flags of the mount holding `path` (for the bits a remount must keep).
  virtual int statvfs(const char* path, struct statvfs* out) = 0;

  // Nodes and owners: need CAP_MKNOD / CAP_CHOWN.
  virtual int mknodat(int dirfd, const char* name, mode_t mode, dev_t dev) = 0;
  virtual int fchownat(int dirfd, const char* name, uid_t uid, gid_t gid, int flags) = 0;

  // Namespaces and names.
  virtual int setns(int fd, int nstype) = 0;
  virtual int unshare(int flags) = 0;
  virtual int sethostname(std::string_view name) = 0;
  virtual int setdomainname(std::string_view name) = 0;
  /// keyctl(KEYCTL_JOIN_SESSION_KEYRING, name).
  virtual long join_session_keyring(const char* name) = 0;

  // The process: session, identity, privileges, limits.
  virtual pid_t setsid() = 0;
  virtual int setgroups(size_t n, const gid_t* groups) = 0;
  virtual int setresuid(uid_t r, uid_t e, uid_t s) = 0;
  virtual int setresgid(gid_t r, gid_t e, gid_t s) = 0;
  virtual mode_t umask(mode_t mask) = 0;
  /// prctl with its fourth and fifth arguments 0 (every option the runtime uses).
  virtual int prctl(int option, unsigned long arg2, unsigned long arg3) = 0;
  virtual int capset(const __user_cap_header_struct* header, const __user_cap_data_struct* data) = 0;
  virtual int personality(unsigned long persona) = 0;
  virtual int setrlimit(int resource, const struct rlimit& limit) = 0;
  /// ioprio_set(IOPRIO_WHO_PROCESS, 0, value): the calling process.
  virtual int ioprio_set(int value) = 0;
  /// sched_setattr(0, attr, 0): the calling thread.
  virtual int sched_setattr(const SchedAttr& attr) = 0;
  virtual int close_range(unsigned first, unsigned last, unsigned flags) = 0;
  /// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog): the filter's
  /// user-notification fd with SECCOMP_FILTER_FLAG_NEW_LISTENER, else 0.
  virtual int seccomp_filter(unsigned flags, const struct sock_fprog& prog) = 0;
};

}  // namespace berth::runtime
