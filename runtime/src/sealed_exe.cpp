// sealed_exe.cpp — re-execution from a copy of the binary that a container
// cannot write (CVE-2019-5736; see sealed_exe.h).
#include "berth/runtime/sealed_exe.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <climits>
#include <string>
#include <string_view>

#include "linux_compat.h"

extern char** environ;

namespace berth::runtime {
namespace {

constexpr int kMemfdSeals = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
constexpr unsigned long kOverlayFlags = ST_RDONLY | ST_NOSUID | ST_NODEV;
#ifndef MFD_EXEC
constexpr unsigned kMfdExec = 0x0010;  // Linux 6.3: executable even where vm.memfd_noexec forbids it by default
#else
constexpr unsigned kMfdExec = MFD_EXEC;
#endif

bool sealed(int fd) {
  struct statfs sf;
  if (::fstatfs(fd, &sf) < 0) return false;
  if (sf.f_type == OVERLAYFS_SUPER_MAGIC) return (sf.f_flags & kOverlayFlags) == kOverlayFlags;
  int seals = ::fcntl(fd, F_GET_SEALS);
  return seals >= 0 && (seals & kMemfdSeals) == kMemfdSeals;
}

// A lowerdir entry: overlayfs splits the option at ':' and unescapes '\'.
std::string escape_lower(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

Result<std::string> exe_path() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return Error::os("readlink /proc/self/exe");
  return std::string(buf, static_cast<size_t>(n));
}

// The binary seen through a detached overlayfs with no upper layer: it
// cannot be written (EROFS), remounted (it is in no mount namespace) or
// unwrapped to the file below, and costs no copy. Without an upper layer
// overlayfs needs two lower ones; the second, below the binary's directory
// (so it never masks the binary), is one every host has that is neither
// an ancestor nor a descendant of that directory (overlapping layers are
// refused).
Result<UniqueFd> sealed_overlay(const std::string& exe) {
  size_t slash = exe.rfind('/');
  if (slash == std::string::npos || slash + 1 == exe.size()) return Error::msg("no directory in " + exe);
  std::string dir = slash == 0 ? "/" : exe.substr(0, slash), name = exe.substr(slash + 1);
  Error last;
  for (const char* second : {"/dev", "/sys"}) {
    UniqueFd ctx(::fsopen("overlay", FSOPEN_CLOEXEC));
    if (!ctx) return Error::os("fsopen overlay");
    std::string lower = escape_lower(dir) + ":" + escape_lower(second);
    if (::fsconfig(ctx.get(), FSCONFIG_SET_STRING, "lowerdir", lower.c_str(), 0) < 0) {
      last = Error::os("overlay lowerdir=" + lower);
      continue;
    }
    // xino is of no use here and logs to dmesg when the layers' file systems differ.
    (void)::fsconfig(ctx.get(), FSCONFIG_SET_STRING, "xino", "off", 0);
    if (::fsconfig(ctx.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0) {
      last = Error::os("create overlay lowerdir=" + lower);
      continue;
    }
    UniqueFd mnt(::fsmount(ctx.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
    if (!mnt) return Error::os("fsmount overlay lowerdir=" + lower);
    UniqueFd exe_fd(::openat(mnt.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!exe_fd) return Error::os("open " + name + " through overlay lowerdir=" + lower);
    return exe_fd;
  }
  return last;
}

// A copy of the binary in a memfd sealed against every change.
Result<UniqueFd> sealed_memfd() {
  UniqueFd src(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  if (!src) return Error::os("open /proc/self/exe");
  struct stat st;
  if (::fstat(src.get(), &st) < 0) return Error::os("stat /proc/self/exe");
  UniqueFd copy(::memfd_create("berth-sealed-exe", MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdExec));
  if (!copy && errno == EINVAL) copy = UniqueFd(::memfd_create("berth-sealed-exe", MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (!copy) return Error::os("memfd_create");
  for (off_t done = 0; done < st.st_size;) {
    ssize_t n = ::sendfile(copy.get(), src.get(), &done, static_cast<size_t>(st.st_size - done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::os("copy /proc/self/exe to a memfd");
    if (n == 0) return Error::msg("copy /proc/self/exe to a memfd: short read");
  }
  if (::fcntl(copy.get(), F_ADD_SEALS, kMemfdSeals) < 0) return Error::os("seal the memfd copy of /proc/self/exe");
  return copy;
}

}  // namespace

bool exe_is_sealed() {
  UniqueFd fd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  return fd && sealed(fd.get());
}

Result<UniqueFd> seal_self() {
  auto exe = BERTH_TRY(exe_path());
  auto overlay = sealed_overlay(exe);
  if (overlay) return overlay;
  auto copy = sealed_memfd();
  if (!copy) return std::move(copy).error().wrap(overlay.error().what() + "; then");
  return copy;
}

#ifndef BERTH_UNDEFEND_CVE_2019_5736

Status reexec_sealed(char** argv) {
  if (exe_is_sealed()) {
    std::string_view name = argv[0] ? argv[0] : "";
    if (size_t slash = name.rfind('/'); slash != std::string_view::npos) name.remove_prefix(slash + 1);
    if (!name.empty()) ::prctl(PR_SET_NAME, std::string(name.substr(0, 15)).c_str(), 0, 0, 0);
    return ok();
  }
  auto fd = BERTH_TRY_CTX(seal_self(), "seal the runtime's binary (CVE-2019-5736)");
  ::execveat(fd.get(), "", argv, environ, AT_EMPTY_PATH);
  return Error::os("re-execute from the sealed binary (CVE-2019-5736)");
}

Status require_sealed_exe() {
  if (exe_is_sealed()) return ok();
  return Error::msg("CVE-2019-5736: this process runs a binary file a container could write; "
                    "its program must re-execute from a sealed copy (runtime::reexec_sealed) first");
}

#else  // a test-only build (BERTH_TEST_UNDEFEND=cve-2019-5736): the defence left out

Status reexec_sealed(char**) { return ok(); }
Status require_sealed_exe() { return ok(); }

#endif

}  // namespace berth::runtime
