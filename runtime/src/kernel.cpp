// kernel.cpp — the host's Kernel: each verb is the system call of its name.
#include "kernel.h"

#include <grp.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "linux_compat.h"

#ifndef KEYCTL_JOIN_SESSION_KEYRING
#define KEYCTL_JOIN_SESSION_KEYRING 1
#endif

namespace berth::runtime {
namespace {

class HostKernel final : public Kernel {
public:
  int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
            const void* data) override {
    return ::mount(source, target, fstype, flags, data);
  }
  int umount2(const char* target, int flags) override { return ::umount2(target, flags); }
  int open_tree(int dirfd, const char* path, unsigned flags) override {
    return static_cast<int>(::syscall(SYS_open_tree, dirfd, path, flags));
  }
  int move_mount(int from_dirfd, const char* from_path, int to_dirfd, const char* to_path, unsigned flags) override {
    return static_cast<int>(::syscall(SYS_move_mount, from_dirfd, from_path, to_dirfd, to_path, flags));
  }
  int mount_setattr(int dirfd, const char* path, unsigned flags, const MountAttr& attr) override {
    return static_cast<int>(::syscall(SYS_mount_setattr, dirfd, path, flags, &attr, sizeof attr));
  }
  int pivot_root(const char* new_root, const char* put_old) override {
    return static_cast<int>(::syscall(SYS_pivot_root, new_root, put_old));
  }
  int chroot(const char* path) override { return ::chroot(path); }
  int chdir(const char* path) override { return ::chdir(path); }
  int fchdir(int fd) override { return ::fchdir(fd); }
  int statvfs(const char* path, struct statvfs* out) override { return ::statvfs(path, out); }
  int mknodat(int dirfd, const char* name, mode_t mode, dev_t dev) override {
    return ::mknodat(dirfd, name, mode, dev);
  }
  int fchownat(int dirfd, const char* name, uid_t uid, gid_t gid, int flags) override {
    return ::fchownat(dirfd, name, uid, gid, flags);
  }
  int setns(int fd, int nstype) override { return ::setns(fd, nstype); }
  int unshare(int flags) override { return ::unshare(flags); }
  int sethostname(std::string_view name) override { return ::sethostname(name.data(), name.size()); }
  int setdomainname(std::string_view name) override { return ::setdomainname(name.data(), name.size()); }
  long join_session_keyring(const char* name) override {
    return ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, name);
  }
  pid_t setsid() override { return ::setsid(); }
  int setgroups(size_t n, const gid_t* groups) override { return ::setgroups(n, groups); }
  int setresuid(uid_t r, uid_t e, uid_t s) override { return ::setresuid(r, e, s); }
  int setresgid(gid_t r, gid_t e, gid_t s) override { return ::setresgid(r, e, s); }
  mode_t umask(mode_t mask) override { return ::umask(mask); }
  int prctl(int option, unsigned long arg2, unsigned long arg3) override {
    return ::prctl(option, arg2, arg3, 0UL, 0UL);
  }
  int capset(const __user_cap_header_struct* header, const __user_cap_data_struct* data) override {
    return static_cast<int>(::syscall(SYS_capset, header, data));
  }
  int personality(unsigned long persona) override { return ::personality(persona); }
  int setrlimit(int resource, const struct rlimit& limit) override {
    return ::setrlimit(static_cast<__rlimit_resource_t>(resource), &limit);
  }
  int ioprio_set(int value) override {
    return static_cast<int>(::syscall(SYS_ioprio_set, 1 /*IOPRIO_WHO_PROCESS*/, 0, value));
  }
  int sched_setattr(const SchedAttr& attr) override {
    return static_cast<int>(::syscall(SYS_sched_setattr, 0, &attr, 0));
  }
  int close_range(unsigned first, unsigned last, unsigned flags) override {
    return static_cast<int>(::syscall(SYS_close_range, first, last, flags));
  }
  int seccomp_filter(unsigned flags, const struct sock_fprog& prog) override {
    return static_cast<int>(::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog));
  }
};

// Constant-initialized, not a function-local static: exec's forked child
// may be the first to ask for it, and a static's guard held by another
// thread of the parent at fork would never be released in the child.
constinit HostKernel host_kernel;

}  // namespace

Kernel& Kernel::host() { return host_kernel; }

}  // namespace berth::runtime
