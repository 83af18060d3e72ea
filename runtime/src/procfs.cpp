// procfs.cpp — the runtime's own writes to procfs (sysctls, oom_score_adj,
// time namespace offsets, LSM attributes) through a private procfs handle,
// so that no mount placed in a container's /proc can redirect them to
// another file (CVE-2025-52881).
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>

#include "internal.h"
#include "linux_compat.h"

namespace berth::runtime {

#ifndef BERTH_UNDEFEND_CVE_2025_52881

namespace {

constexpr ino_t kProcRootIno = 1;

berth::Status verify_procfs(int fd, const std::string& what) {
  struct statfs sf;
  if (::fstatfs(fd, &sf) < 0) return Error::os("statfs " + what);
  if (sf.f_type != PROC_SUPER_MAGIC) return Error(EXDEV, what + " is not on procfs");
  return {};
}

berth::Status verify_procfs_root(int fd, const std::string& what) {
  BERTH_TRY(verify_procfs(fd, what));
  struct stat st;
  if (::fstat(fd, &st) < 0) return Error::os("stat " + what);
  if (st.st_ino != kProcRootIno) return Error(EXDEV, what + " is not the root of a procfs");
  return {};
}

// A new procfs instance of the caller's pid namespace, mounted nowhere.
Result<UniqueFd> fresh_procfs() {
  UniqueFd fs(::fsopen("proc", FSOPEN_CLOEXEC));
  if (!fs) return Error::os("fsopen proc");
  if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) return Error::os("create procfs");
  UniqueFd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC));
  if (!mnt) return Error::os("fsmount procfs");
  return mnt;
}

// "self" or "thread-self" as the procfs behind `proc_fd` names the caller
// ("1", "1/task/1"): its own symlinks say it, in its pid namespace.
Result<std::string> own_entry(int proc_fd, const char* link) {
  char buf[64];
  ssize_t n = ::readlinkat(proc_fd, link, buf, sizeof buf - 1);
  if (n <= 0) return Error::os(std::string("readlink /proc/") + link);
  return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

Result<UniqueFd> open_private_procfs() {
  auto fresh = fresh_procfs();
  if (fresh) return fresh;
  // No fsopen (an old kernel, a user namespace without a visible /proc):
  // a non-recursive clone of /proc leaves out whatever is mounted in it.
  UniqueFd clone(static_cast<int>(::syscall(SYS_open_tree, AT_FDCWD, "/proc", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC)));
  if (!clone) return Error::os("open_tree /proc").wrap(fresh.error().what() + "; then");
  BERTH_TRY(verify_procfs_root(clone.get(), "/proc"));
  return clone;
}

Result<UniqueFd> open_proc_file(int proc_fd, const std::string& rel, int flags) {
  std::string path = rel;
  for (const char* link : {"thread-self", "self"}) {
    std::string prefix = std::string(link) + "/";
    if (rel.rfind(prefix, 0) == 0) {
      path = BERTH_TRY(own_entry(proc_fd, link)) + "/" + rel.substr(prefix.size());
      break;
    }
  }
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, proc_fd, path.c_str(), &how, sizeof how)));
  if (!fd) return Error::os("open /proc/" + rel);
  BERTH_TRY(verify_procfs(fd.get(), "/proc/" + rel));
  return fd;
}

#else  // a test-only build (BERTH_TEST_UNDEFEND=cve-2025-52881): plain paths, as runc had them

Result<UniqueFd> open_private_procfs() {
  UniqueFd fd(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return Error::os("open /proc");
  return fd;
}

Result<UniqueFd> open_proc_file(int proc_fd, const std::string& rel, int flags) {
  UniqueFd fd(::openat(proc_fd, rel.c_str(), flags | O_CLOEXEC));
  if (!fd) return Error::os("open /proc/" + rel);
  return fd;
}

#endif

berth::Status write_proc_file(int proc_fd, const std::string& rel, std::string_view value) {
  UniqueFd fd = BERTH_TRY(open_proc_file(proc_fd, rel, O_WRONLY));
  ssize_t n = ::write(fd.get(), value.data(), value.size());
  if (n == static_cast<ssize_t>(value.size())) return {};
  // A sysctl's value is worth naming; a uid_map's lines are not.
  if (value.find('\n') == std::string_view::npos) return Error::os("write " + std::string(value) + " to /proc/" + rel);
  return Error::os("write /proc/" + rel);
}

berth::Status write_oom_score_adj(PrivateProcfs& procfs, pid_t pid, const Process& p) {
  if (!p.oom_score_adj) return {};
  int proc = BERTH_TRY_CTX(procfs.fd(), "process.oomScoreAdj");
  BERTH_TRY_CTX(write_proc_file(proc, std::to_string(pid) + "/oom_score_adj", std::to_string(*p.oom_score_adj)),
                "process.oomScoreAdj");
  return {};
}

berth::Status write_time_offsets(PrivateProcfs& procfs, pid_t pid, const Spec& spec) {
  std::string offsets;
  for (const auto& [clock, off] : spec.linux.time_offsets)
    offsets += clock + " " + std::to_string(off.first) + " " + std::to_string(off.second) + "\n";
  if (offsets.empty()) return {};
  int proc = BERTH_TRY_CTX(procfs.fd(), "linux.timeOffsets");
  BERTH_TRY_CTX(write_proc_file(proc, std::to_string(pid) + "/timens_offsets", offsets), "linux.timeOffsets");
  return {};
}

}  // namespace berth::runtime
