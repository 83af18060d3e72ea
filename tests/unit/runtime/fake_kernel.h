// fake_kernel.h — a recording Kernel: every verb becomes one line of text,
// strace-like, so that the rootfs, init and process sequences are checked
// (which calls, in which order, with which flags) without root. Paths are
// still resolved by the real file system (a temporary bundle), so an fd's
// path (/proc/self/fd/N) is written as the file it names, with the bundle
// directory shown as "{b}".
#pragma once

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <string>
#include <vector>

#include "kernel.h"

namespace berth::runtime {

class FakeKernel : public Kernel {
public:
  std::vector<std::string> calls;
  std::string bundle;              // shown as {b}
  std::string fail_on;             // the first call starting with this fails
  int fail_errno = EIO;            // with this errno
  unsigned long locked_flags = 0;  // what statvfs reports (ST_* bits)

  /// The calls starting with `prefix`, in order.
  std::vector<std::string> only(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& c : calls)
      if (c.starts_with(prefix)) out.push_back(c);
    return out;
  }

  int mount(const char* source, const char* target, const char* fstype, unsigned long flags,
            const void* data) override {
    return record("mount(" + path(source) + ", " + path(target) + ", " + str(fstype) + ", " + mount_flags(flags) +
                  ", " + str(static_cast<const char*>(data)) + ")");
  }
  int umount2(const char* target, int flags) override {
    return record("umount2(" + path(target) + ", " + (flags == MNT_DETACH ? "MNT_DETACH" : std::to_string(flags)) +
                  ")");
  }
  int open_tree(int dirfd, const char* p, unsigned flags) override {
    if (record("open_tree(" + at(dirfd, p) + ", " + hex(flags) + ")") < 0) return -1;
    return *p ? ::open(p, O_PATH | O_CLOEXEC) : ::fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  }
  int move_mount(int from_dirfd, const char* from, int to_dirfd, const char* to, unsigned flags) override {
    return record("move_mount(" + at(from_dirfd, from) + ", " + at(to_dirfd, to) + ", " + hex(flags) + ")");
  }
  int mount_setattr(int dirfd, const char* p, unsigned flags, const MountAttr& a) override {
    return record("mount_setattr(" + at(dirfd, p) + ", " + hex(flags) + ", set " + hex(a.attr_set) + " clr " +
                  hex(a.attr_clr) + ")");
  }
  int pivot_root(const char* new_root, const char* put_old) override {
    return record("pivot_root(" + path(new_root) + ", " + path(put_old) + ")");
  }
  int chroot(const char* p) override { return record("chroot(" + path(p) + ")"); }
  int chdir(const char* p) override { return record("chdir(" + path(p) + ")"); }
  int fchdir(int fd) override { return record("fchdir(" + fd_name(fd) + ")"); }
  int statvfs(const char*, struct statvfs* out) override {
    *out = {};
    out->f_flag = locked_flags;
    return 0;  // a query, not recorded
  }
  int mknodat(int dirfd, const char* name, mode_t mode, dev_t dev) override {
    std::string type = S_ISCHR(mode) ? "S_IFCHR" : S_ISBLK(mode) ? "S_IFBLK" : S_ISFIFO(mode) ? "S_IFIFO" : "?";
    if (record("mknodat(" + at(dirfd, name) + ", " + type + "|" + oct(mode & 07777) + ", " +
               std::to_string(major(dev)) + ":" + std::to_string(minor(dev)) + ")") < 0)
      return -1;
    // A plain file stands for the node, so that the steps after it (chmod,
    // chown) find something.
    int fd = ::openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, mode & 0777);
    if (fd >= 0) ::close(fd);
    return 0;
  }
  int fchownat(int dirfd, const char* name, uid_t uid, gid_t gid, int) override {
    return record("fchownat(" + at(dirfd, name) + ", " + std::to_string(uid) + ", " + std::to_string(gid) + ")");
  }
  int setns(int, int nstype) override { return record("setns(" + ns_name(nstype) + ")"); }
  int unshare(int flags) override { return record("unshare(" + ns_name(flags) + ")"); }
  int sethostname(std::string_view name) override { return record("sethostname(" + std::string(name) + ")"); }
  int setdomainname(std::string_view name) override { return record("setdomainname(" + std::string(name) + ")"); }
  long join_session_keyring(const char* name) override { return record("keyctl_join(" + std::string(name) + ")"); }
  pid_t setsid() override { return record("setsid()"); }
  int setgroups(size_t n, const gid_t* groups) override {
    std::string list;
    for (size_t i = 0; i < n; ++i) list += (i ? "," : "") + std::to_string(groups[i]);
    return record("setgroups([" + list + "])");
  }
  int setresuid(uid_t r, uid_t e, uid_t s) override { return record("setresuid(" + ids(r, e, s) + ")"); }
  int setresgid(gid_t r, gid_t e, gid_t s) override { return record("setresgid(" + ids(r, e, s) + ")"); }
  mode_t umask(mode_t mask) override {
    (void)record("umask(" + oct(mask) + ")");
    return 022;
  }
  int prctl(int option, unsigned long arg2, unsigned long arg3) override {
    return record("prctl(" + prctl_name(option) + ", " + std::to_string(arg2) + ", " + std::to_string(arg3) + ")");
  }
  int capset(const __user_cap_header_struct*, const __user_cap_data_struct* d) override {
    return record("capset(eff " + hex(d[0].effective | (uint64_t{d[1].effective} << 32)) + " prm " +
                  hex(d[0].permitted | (uint64_t{d[1].permitted} << 32)) + " inh " +
                  hex(d[0].inheritable | (uint64_t{d[1].inheritable} << 32)) + ")");
  }
  int personality(unsigned long persona) override { return record("personality(" + hex(persona) + ")"); }
  int setrlimit(int resource, const struct rlimit& l) override {
    return record("setrlimit(" + std::to_string(resource) + ", " + std::to_string(l.rlim_cur) + ", " +
                  std::to_string(l.rlim_max) + ")");
  }
  int ioprio_set(int value) override { return record("ioprio_set(" + hex(static_cast<unsigned>(value)) + ")"); }
  int sched_setattr(const SchedAttr& a) override {
    return record("sched_setattr(policy " + std::to_string(a.sched_policy) + " prio " +
                  std::to_string(a.sched_priority) + " nice " + std::to_string(a.sched_nice) + " flags " +
                  hex(a.sched_flags) + ")");
  }
  int close_range(unsigned first, unsigned last, unsigned flags) override {
    return record("close_range(" + std::to_string(first) + ", " + hex(last) + ", " + hex(flags) + ")");
  }
  int seccomp_filter(unsigned flags, const struct sock_fprog& prog) override {
    return record("seccomp_filter(" + hex(flags) + ", " + std::to_string(prog.len) + " insns)");
  }

  static std::string mount_flags(unsigned long f) {
    static const std::pair<unsigned long, const char*> names[] = {{MS_RDONLY, "MS_RDONLY"},
                                                                  {MS_NOSUID, "MS_NOSUID"},
                                                                  {MS_NODEV, "MS_NODEV"},
                                                                  {MS_NOEXEC, "MS_NOEXEC"},
                                                                  {MS_REMOUNT, "MS_REMOUNT"},
                                                                  {MS_NOATIME, "MS_NOATIME"},
                                                                  {MS_NODIRATIME, "MS_NODIRATIME"},
                                                                  {MS_BIND, "MS_BIND"},
                                                                  {MS_MOVE, "MS_MOVE"},
                                                                  {MS_REC, "MS_REC"},
                                                                  {MS_UNBINDABLE, "MS_UNBINDABLE"},
                                                                  {MS_PRIVATE, "MS_PRIVATE"},
                                                                  {MS_SLAVE, "MS_SLAVE"},
                                                                  {MS_SHARED, "MS_SHARED"},
                                                                  {MS_RELATIME, "MS_RELATIME"},
                                                                  {MS_STRICTATIME, "MS_STRICTATIME"},
                                                                  {256UL /*MS_NOSYMFOLLOW*/, "MS_NOSYMFOLLOW"}};
    std::string out;
    for (const auto& [bit, name] : names)
      if (f & bit) {
        out += out.empty() ? "" : "|";
        out += name;
        f &= ~bit;
      }
    if (f) out += (out.empty() ? "" : "|") + hex(f);
    return out.empty() ? "0" : out;
  }

private:
  int record(std::string call) {
    bool fail = !fail_on.empty() && call.starts_with(fail_on);
    calls.push_back(std::move(call));
    if (!fail) return 0;
    fail_on.clear();  // one failure: what comes after it runs
    errno = fail_errno;
    return -1;
  }
  std::string shown(std::string p) const {
    if (!bundle.empty() && p.starts_with(bundle)) p = "{b}" + p.substr(bundle.size());
    return p;
  }
  std::string fd_name(int fd) const {
    char buf[PATH_MAX];
    ssize_t n = ::readlink(("/proc/self/fd/" + std::to_string(fd)).c_str(), buf, sizeof buf - 1);
    if (n <= 0) return "fd " + std::to_string(fd);
    return shown(std::string(buf, static_cast<size_t>(n)));
  }
  std::string path(const char* p) const {
    if (!p) return "NULL";
    std::string s = p;
    if (s.starts_with("/proc/self/fd/")) return fd_name(std::stoi(s.substr(14)));
    return shown(s);
  }
  std::string at(int dirfd, const char* p) const {
    if (p && *p) return dirfd == AT_FDCWD ? path(p) : fd_name(dirfd) + "/" + p;
    return fd_name(dirfd);
  }
  static std::string str(const char* s) { return s ? s : "NULL"; }
  static std::string hex(uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%#llx", static_cast<unsigned long long>(v));
    return buf;
  }
  static std::string oct(unsigned v) {
    char buf[16];
    snprintf(buf, sizeof buf, "%04o", v);
    return buf;
  }
  static std::string ids(unsigned r, unsigned e, unsigned s) {
    return std::to_string(r) + ", " + std::to_string(e) + ", " + std::to_string(s);
  }
  static std::string ns_name(int type) {
    static const std::pair<int, const char*> names[] = {
        {CLONE_NEWUSER, "CLONE_NEWUSER"},     {CLONE_NEWNS, "CLONE_NEWNS"},
        {CLONE_NEWPID, "CLONE_NEWPID"},       {CLONE_NEWNET, "CLONE_NEWNET"},
        {CLONE_NEWIPC, "CLONE_NEWIPC"},       {CLONE_NEWUTS, "CLONE_NEWUTS"},
        {CLONE_NEWCGROUP, "CLONE_NEWCGROUP"}, {0x80 /*CLONE_NEWTIME*/, "CLONE_NEWTIME"}};
    std::string out;
    for (const auto& [bit, name] : names)
      if (type & bit) out += (out.empty() ? "" : "|") + std::string(name);
    return out.empty() ? std::to_string(type) : out;
  }
  static std::string prctl_name(int option) {
    switch (option) {
      case PR_SET_DUMPABLE: return "PR_SET_DUMPABLE";
      case PR_SET_KEEPCAPS: return "PR_SET_KEEPCAPS";
      case PR_SET_NO_NEW_PRIVS: return "PR_SET_NO_NEW_PRIVS";
      case PR_CAPBSET_DROP: return "PR_CAPBSET_DROP";
      case PR_CAP_AMBIENT: return "PR_CAP_AMBIENT";
      default: return std::to_string(option);
    }
  }
};

}  // namespace berth::runtime
