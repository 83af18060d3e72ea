// rootfs.cpp — the container's mounts, devices, pivot_root and masked paths.
// Every target inside the rootfs is resolved with openat2(RESOLVE_IN_ROOT)
// and mounted on through its fd, so a symlink swapped into the rootfs can
// never redirect a mount to the host (CVE-2021-30465).
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <map>

#include "berth/base/fs.h"
#include "internal.h"
#include "kernel.h"
#include "linux_compat.h"

namespace berth::runtime {
namespace {

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

berth::Status verify_null_device(int fd, const std::string& what) {
  struct stat st;
  if (::fstat(fd, &st) < 0) return Error::os("stat " + what);
  if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
    return Error(EPERM, what + " is not the null device (character device 1:3)");
  return {};
}

std::string strip_slashes(const std::string& p) {
  size_t i = 0;
  while (i < p.size() && p[i] == '/') ++i;
  std::string out = p.substr(i);
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out;
}

// Creates every missing directory of `rel` under root, each step resolved
// inside the root. With `file_last`, the last component is a regular file.
berth::Status make_target(int root_fd, const std::string& rel, bool file_last) {
  std::string prefix;
  size_t i = 0;
  while (i <= rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    std::string comp = rel.substr(i, j - i);
    bool last = j == rel.size();
    i = j + 1;
    if (comp.empty() || comp == ".") continue;
    std::string next = prefix.empty() ? comp : prefix + "/" + comp;
    auto existing = open_in_root(root_fd, next, O_PATH);
    if (existing) {
      prefix = next;
      continue;
    }
    if (existing.error().code() != ENOENT) return std::move(existing).error();
    UniqueFd parent;
    if (prefix.empty()) {
      parent.reset(::dup(root_fd));
    } else {
      parent = BERTH_TRY(open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY));
    }
    if (last && file_last) {
      int fd = ::openat(parent.get(), comp.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd < 0 && errno != EEXIST) return Error::os("create mount target /" + next);
      if (fd >= 0) ::close(fd);
    } else if (::mkdirat(parent.get(), comp.c_str(), 0755) < 0 && errno != EEXIST) {
      return Error::os("mkdir /" + next);
    }
    prefix = next;
  }
  return {};
}

unsigned long statvfs_to_ms(unsigned long f) {
  unsigned long ms = 0;
  if (f & ST_RDONLY) ms |= MS_RDONLY;
  if (f & ST_NOSUID) ms |= MS_NOSUID;
  if (f & ST_NODEV) ms |= MS_NODEV;
  if (f & ST_NOEXEC) ms |= MS_NOEXEC;
  if (f & ST_NOATIME) ms |= MS_NOATIME;
  if (f & ST_NODIRATIME) ms |= MS_NODIRATIME;
  if (f & ST_RELATIME) ms |= MS_RELATIME;
  return ms;
}

// Read-only etc. on a bind mount need a remount; keep the flags the kernel
// has locked (nosuid/nodev/noexec from the source) or the remount fails.
// `what` names the mount in the error (`path` is often a /proc/self/fd one).
berth::Status remount_bind(Kernel& k, const std::string& path, unsigned long flags, const std::string& what) {
  struct statvfs sv;
  unsigned long locked = 0;
  if (k.statvfs(path.c_str(), &sv) == 0) locked = statvfs_to_ms(sv.f_flag) & (MS_NOSUID | MS_NODEV | MS_NOEXEC);
  unsigned long f = MS_BIND | MS_REMOUNT | locked |
                    (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME |
                              MS_RELATIME | MS_STRICTATIME | MS_NOSYMFOLLOW));
  if (k.mount(nullptr, path.c_str(), nullptr, f, nullptr) < 0) return Error::os("remount " + what);
  return {};
}

berth::Status mount_bind(Kernel& k, int root_fd, const Mount& m, const std::string& rel, const std::string& bundle,
                         int idmap_fd) {
  std::string src = m.source;
  if (!src.empty() && src[0] != '/') src = fs::join(bundle, src);
  struct stat st;
  if (idmap_fd < 0 && ::stat(src.c_str(), &st) < 0) return Error::os("stat source " + src);
  bool is_dir = idmap_fd >= 0 ? true : S_ISDIR(st.st_mode);
  if (idmap_fd >= 0) {
    struct stat ts;
    if (::fstat(idmap_fd, &ts) == 0) is_dir = S_ISDIR(ts.st_mode);
  }
  BERTH_TRY(make_target(root_fd, rel, !is_dir));
  UniqueFd target = BERTH_TRY(open_in_root(root_fd, rel, O_PATH));
  if (idmap_fd >= 0) {
    if (k.move_mount(idmap_fd, "", target.get(), "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
      return Error::os("move idmapped mount onto " + m.destination);
    ::close(idmap_fd);  // attached now; the container must not inherit it
  } else {
    UniqueFd source(::open(src.c_str(), O_PATH | O_CLOEXEC));
    if (!source) return Error::os("open source " + src);
    unsigned long f = MS_BIND | (m.recursive ? MS_REC : 0);
    if (k.mount(fd_path(source.get()).c_str(), fd_path(target.get()).c_str(), nullptr, f, nullptr) < 0)
      return Error::os("bind " + src + " on " + m.destination);
  }
  // The target fd still names the directory under the new mount: reopen.
  UniqueFd mounted = BERTH_TRY(open_in_root(root_fd, rel, O_PATH));
  std::string mp = fd_path(mounted.get());
  if (m.flags & ~(MS_REC | MS_BIND | MS_REMOUNT)) BERTH_TRY(remount_bind(k, mp, m.flags, m.destination));
  if (m.propagation && k.mount(nullptr, mp.c_str(), nullptr, m.propagation, nullptr) < 0)
    return Error::os("set propagation of " + m.destination);
  if (m.attr_set || m.attr_clr) {
    MountAttr attr{m.attr_set, m.attr_clr, 0, 0};
    if (k.mount_setattr(mounted.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, attr) < 0)
      return Error::os("mount_setattr " + m.destination);
  }
  return {};
}

// The init's own cgroup per hierarchy, from /proc/self/cgroup: key is the
// controller list ("cpu,cpuacct", "name=systemd"), "" for cgroup2.
Result<std::map<std::string, std::string>> own_cgroups() {
  std::string text = BERTH_TRY(fs::read_file("/proc/self/cgroup"));
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    size_t a = line.find(':'), b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    out[line.substr(a + 1, b - a - 1)] = line.substr(b + 1);
  }
  return out;
}

// One hierarchy at `sub` (relative to the rootfs): inside a cgroup namespace
// a fresh mount, whose root is the container's cgroup; without one, a bind
// of the container's own cgroup directory, so the container never sees (or
// writes) the host's tree, as runc does.
berth::Status mount_hierarchy(Kernel& k, int root_fd, const std::string& sub, const std::string& host_mnt,
                              const std::string& fstype, const std::string& opts, const std::string& own, bool cgroupns,
                              unsigned long flags) {
  UniqueFd t = BERTH_TRY(open_in_root(root_fd, sub, O_PATH | O_DIRECTORY));
  std::string tp = fd_path(t.get());
  if (cgroupns) {
    if (k.mount(fstype.c_str(), tp.c_str(), fstype.c_str(), flags, opts.empty() ? nullptr : opts.c_str()) < 0)
      return Error::os("mount " + fstype + " " + opts + " on /" + sub);
    return {};
  }
  std::string src = host_mnt + own;
  UniqueFd source(::open(src.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!source) return Error::os("open own cgroup " + src);
  if (k.mount(fd_path(source.get()).c_str(), tp.c_str(), nullptr, MS_BIND, nullptr) < 0)
    return Error::os("bind " + src + " on /" + sub);
  UniqueFd mounted = BERTH_TRY(open_in_root(root_fd, sub, O_PATH | O_DIRECTORY));
  return remount_bind(k, fd_path(mounted.get()), flags | MS_BIND, "/" + sub);
}

// Hybrid hosts: a tmpfs with one v1 hierarchy per controller plus the
// cgroup2 tree, as the host has them.
berth::Status mount_cgroup_v1_tree(Kernel& k, int root_fd, const Mount& m, const std::string& rel, bool cgroupns) {
  UniqueFd target = BERTH_TRY(open_in_root(root_fd, rel, O_PATH | O_DIRECTORY));
  unsigned long base = m.flags & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME);
  if (k.mount("tmpfs", fd_path(target.get()).c_str(), "tmpfs", base, "mode=755") < 0)
    return Error::os("mount tmpfs on " + m.destination);
  auto own = BERTH_TRY(own_cgroups());
  auto ctrls = BERTH_TRY(fs::list_dir("/sys/fs/cgroup"));
  for (const auto& c : ctrls) {
    std::string host = "/sys/fs/cgroup/" + c;
    std::string sub = rel + "/" + c;
    struct stat st;
    if (::lstat(host.c_str(), &st) < 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char buf[256];
      ssize_t n = ::readlink(host.c_str(), buf, sizeof buf - 1);
      if (n <= 0) continue;
      buf[n] = 0;
      UniqueFd dir = BERTH_TRY(open_in_root(root_fd, rel, O_PATH | O_DIRECTORY));
      if (::symlinkat(buf, dir.get(), c.c_str()) < 0 && errno != EEXIST) return Error::os("symlink " + sub);
      continue;
    }
    if (!S_ISDIR(st.st_mode)) continue;
    bool v2 = c == "unified";
    std::string key = v2 ? "" : c == "systemd" ? "name=systemd" : c;
    auto it = own.find(key);
    if (it == own.end()) continue;  // not a hierarchy this process is in
    BERTH_TRY(make_target(root_fd, sub, false));
    std::string opts = v2 ? "" : c == "systemd" ? "none,name=systemd" : c;
    BERTH_TRY(mount_hierarchy(k, root_fd, sub, host, v2 ? "cgroup2" : "cgroup", opts, it->second, cgroupns,
                              base | (m.flags & MS_RDONLY)));
  }
  if (m.flags & MS_RDONLY) {
    UniqueFd mounted = BERTH_TRY(open_in_root(root_fd, rel, O_PATH | O_DIRECTORY));
    BERTH_TRY(remount_bind(k, fd_path(mounted.get()), MS_RDONLY | base, m.destination));
  }
  return {};
}

// tmpcopyup: what the image had under a tmpfs mount point is copied into
// the fresh tmpfs (owners, modes, links and nodes kept), as runc does.
berth::Status copy_tree(Kernel& k, int from, int to, const std::string& where, int depth = 0) {
  if (depth > 64) return Error::msg(where + ": tmpcopyup: directory tree too deep");
  int dfd = ::dup(from);
  if (dfd < 0) return Error::os("dup");
  DIR* d = ::fdopendir(dfd);
  if (!d) {
    ::close(dfd);
    return Error::os(where + ": tmpcopyup: read directory");
  }
  Defer closedir([&] { ::closedir(d); });
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    std::string path = where + "/" + n;
    struct stat st;
    if (::fstatat(from, n.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) return Error::os("tmpcopyup: stat " + path);
    mode_t perm = st.st_mode & 07777;
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, n.c_str(), 0700) < 0) return Error::os("tmpcopyup: mkdir " + path);
      UniqueFd src(::openat(from, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd dst(::openat(to, n.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!src || !dst) return Error::os("tmpcopyup: open " + path);
      BERTH_TRY(copy_tree(k, src.get(), dst.get(), path, depth + 1));
      if (::fchown(dst.get(), st.st_uid, st.st_gid) < 0 || ::fchmod(dst.get(), perm) < 0)
        return Error::os("tmpcopyup: chown/chmod " + path);
    } else if (S_ISREG(st.st_mode)) {
      UniqueFd src(::openat(from, n.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      UniqueFd dst(::openat(to, n.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!src || !dst) return Error::os("tmpcopyup: open " + path);
      char buf[65536];
      for (;;) {
        ssize_t r = ::read(src.get(), buf, sizeof buf);
        if (r < 0) return Error::os("tmpcopyup: read " + path);
        if (r == 0) break;
        if (::write(dst.get(), buf, static_cast<size_t>(r)) != r) return Error::os("tmpcopyup: write " + path);
      }
      if (::fchown(dst.get(), st.st_uid, st.st_gid) < 0 || ::fchmod(dst.get(), perm) < 0)
        return Error::os("tmpcopyup: chown/chmod " + path);
    } else if (S_ISLNK(st.st_mode)) {
      std::string target(static_cast<size_t>(st.st_size) + 1, '\0');
      ssize_t r = ::readlinkat(from, n.c_str(), target.data(), target.size());
      if (r < 0) return Error::os("tmpcopyup: readlink " + path);
      target.resize(static_cast<size_t>(r));
      if (::symlinkat(target.c_str(), to, n.c_str()) < 0) return Error::os("tmpcopyup: symlink " + path);
      if (::fchownat(to, n.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
        return Error::os("tmpcopyup: chown " + path);
    } else {
      if (k.mknodat(to, n.c_str(), st.st_mode, st.st_rdev) < 0) return Error::os("tmpcopyup: mknod " + path);
      if (::fchownat(to, n.c_str(), st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
          ::fchmodat(to, n.c_str(), perm, 0) < 0)
        return Error::os("tmpcopyup: chown/chmod " + path);
    }
  }
  return {};
}

berth::Status mount_one(InitContext& ctx, int root_fd, const Mount& m, int idmap_fd) {
  Kernel& k = *ctx.kernel;
  std::string rel = strip_slashes(m.destination);
  if (rel.empty()) return Error::msg("mount destination / is not allowed");
  if (m.bind) return mount_bind(k, root_fd, m, rel, ctx.opts->bundle, idmap_fd);
  BERTH_TRY(make_target(root_fd, rel, false));
  bool special = m.type == "proc" || m.type == "sysfs";
  // procfs and sysfs only on a real directory (CVE-2019-19921, CVE-2023-27561).
  auto target = open_in_root(root_fd, rel, O_PATH | O_DIRECTORY, special);
  if (!target) {
    if (special) return Error(target.error().code(), m.destination + ": " + m.type + " must be mounted on ordinary directory");
    return std::move(target).error();
  }
  std::string tp = fd_path(target->get());
  if (m.type == "cgroup" || m.type == "cgroup2") {
    bool cgroupns = ctx.spec->has_namespace(CLONE_NEWCGROUP);
    // On hybrid hosts "cgroup" is the host's layout (v1 hierarchies and
    // the cgroup2 tree), "cgroup2" the cgroup2 tree alone, as a pure v2
    // host has it: what an init that only runs on cgroup v2 needs
    // (systemd 256 and later refuse the v1 layout). The v1 controllers
    // still hold the container's limits.
    std::string v2_mount = "/sys/fs/cgroup";
    if (ctx.host_cgroup_v1) {
      if (m.type == "cgroup") return mount_cgroup_v1_tree(k, root_fd, m, rel, cgroupns);
      v2_mount = "/sys/fs/cgroup/unified";
    }
    auto own = BERTH_TRY(own_cgroups());
    if (!own.count("")) return Error(ENOENT, m.destination + ": cgroup2: the host has no cgroup2 tree");
    target = UniqueFd();
    return mount_hierarchy(k, root_fd, rel, v2_mount, "cgroup2", "", own[""], cgroupns, m.flags & ~MS_REMOUNT);
  }
  const char* data = m.data.empty() ? nullptr : m.data.c_str();
  unsigned long flags = m.flags & ~(MS_REMOUNT | MS_BIND | MS_REC);
  UniqueFd under;  // tmpcopyup: the directory the tmpfs will hide
  if (m.tmpcopyup) {
    if (m.type != "tmpfs") return Error::msg(m.destination + ": tmpcopyup needs a tmpfs mount");
    under = BERTH_TRY(open_in_root(root_fd, rel, O_RDONLY | O_DIRECTORY));
    flags &= ~static_cast<unsigned long>(MS_RDONLY);  // filled first, made read-only after
  }
  if (k.mount(m.source.empty() ? m.type.c_str() : m.source.c_str(), tp.c_str(), m.type.c_str(), flags, data) < 0)
    return Error::os("mount " + m.type + " on " + m.destination);
  if (under) {
    UniqueFd fresh = BERTH_TRY(open_in_root(root_fd, rel, O_RDONLY | O_DIRECTORY));
    BERTH_TRY(copy_tree(k, under.get(), fresh.get(), m.destination));
    if (m.flags & MS_RDONLY) BERTH_TRY(remount_bind(k, fd_path(fresh.get()), m.flags | MS_RDONLY, m.destination));
  }
  if (m.propagation) {
    UniqueFd mounted = BERTH_TRY(open_in_root(root_fd, rel, O_PATH));
    if (k.mount(nullptr, fd_path(mounted.get()).c_str(), nullptr, m.propagation, nullptr) < 0)
      return Error::os("set propagation of " + m.destination);
  }
  return {};
}

struct DefaultDevice {
  const char* name;
  int major, minor;
};
constexpr DefaultDevice kDefaultDevices[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

// Under a user namespace mknod is not allowed: bind the host's node instead.
berth::Status create_device(Kernel& k, int root_fd, const Device& d, bool userns) {
  std::string rel = strip_slashes(d.path);
  auto slash = rel.rfind('/');
  if (slash != std::string::npos) BERTH_TRY(make_target(root_fd, rel.substr(0, slash), false));
  UniqueFd parent = slash == std::string::npos ? UniqueFd(::dup(root_fd))
                                               : BERTH_TRY(open_in_root(root_fd, rel.substr(0, slash), O_PATH | O_DIRECTORY));
  std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  mode_t mode = d.file_mode.value_or(0666) & 07777;
  if (userns) {
    std::string host = "/dev/" + (rel.rfind("dev/", 0) == 0 ? rel.substr(4) : name);
    int fd = ::openat(parent.get(), name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return Error::os("create " + d.path);
    ::close(fd);
    UniqueFd target(::openat(parent.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
    if (!target) return Error::os("open " + d.path);
    if (k.mount(host.c_str(), fd_path(target.get()).c_str(), nullptr, MS_BIND, nullptr) < 0)
      return Error::os("bind device " + host + " on " + d.path);
    return {};
  }
  mode_t type = d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR;
  ::unlinkat(parent.get(), name.c_str(), 0);
  if (k.mknodat(parent.get(), name.c_str(), type | mode, makedev(d.major, d.minor)) < 0)
    return Error::os("mknod " + d.path);
  // mknod honours the umask: set the mode exactly.
  UniqueFd node(::openat(parent.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
  if (node) {
    ::fchmodat(parent.get(), name.c_str(), mode, 0);
    if (k.fchownat(parent.get(), name.c_str(), d.uid.value_or(0), d.gid.value_or(0), AT_SYMLINK_NOFOLLOW) < 0)
      return Error::os("chown " + d.path);
  }
  return {};
}

bool dev_is_tmpfs(const Spec& spec) {
  for (const auto& m : spec.mounts)
    if (m.destination == "/dev" && !m.bind) return true;
  return false;
}

berth::Status create_devices(Kernel& k, int root_fd, const Spec& spec) {
  bool userns = spec.has_namespace(CLONE_NEWUSER);
  if (dev_is_tmpfs(spec)) {
    for (const auto& dd : kDefaultDevices) {
      Device d;
      d.type = 'c';
      d.path = std::string("/dev/") + dd.name;
      d.major = dd.major;
      d.minor = dd.minor;
      d.file_mode = 0666;
      BERTH_TRY(create_device(k, root_fd, d, userns));
    }
    UniqueFd dev = BERTH_TRY(open_in_root(root_fd, "dev", O_PATH | O_DIRECTORY));
    const std::pair<const char*, const char*> links[] = {
        {"/proc/self/fd", "fd"}, {"/proc/self/fd/0", "stdin"}, {"/proc/self/fd/1", "stdout"},
        {"/proc/self/fd/2", "stderr"}, {"pts/ptmx", "ptmx"}};
    for (const auto& [to, name] : links)
      if (::symlinkat(to, dev.get(), name) < 0 && errno != EEXIST) return Error::os(std::string("symlink /dev/") + name);
    if (fs::exists("/proc/kcore")) ::symlinkat("/proc/kcore", dev.get(), "core");
  }
  for (size_t i = 0; i < spec.linux.devices.size(); ++i)
    BERTH_TRY_CTX(create_device(k, root_fd, spec.linux.devices[i], userns), "linux.devices[" + std::to_string(i) + "]");
  return {};
}

// The null device opened on the host (O_PATH, no symlink followed) and
// checked to be the character device 1:3.
Result<UniqueFd> open_null_device() {
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  UniqueFd fd(static_cast<int>(::syscall(SYS_openat2, AT_FDCWD, "/dev/null", &how, sizeof how)));
  if (!fd) return Error::os("open the host's /dev/null");
  BERTH_TRY(verify_null_device(fd.get(), "the host's /dev/null"));
  return fd;
}

// CVE-2025-31133: a file is masked with a bind of the null device that
// the init opened on the host before the rootfs was touched, checked again
// here; never with the rootfs' own /dev/null, which an image or a
// container sharing /dev can make a symlink (to a host file before
// pivot_root, to /proc/sys/kernel/core_pattern after it) or a plain file,
// so that the "mask" exposes what it names, writable.
// A test-only build (BERTH_TEST_UNDEFEND=cve-2025-31133) masks with the
// rootfs' /dev/null by its path, as runc did, so that tests/security can
// show this is what stops the attack.
#ifndef BERTH_UNDEFEND_CVE_2025_31133
Result<UniqueFd> mask_source(const InitContext& ctx) {
  UniqueFd fd(::fcntl(ctx.devnull_fd, F_DUPFD_CLOEXEC, 0));
  if (!fd) return Error::os("dup the host's /dev/null");
  BERTH_TRY(verify_null_device(fd.get(), "the host's /dev/null"));
  return fd;
}
#else
Result<UniqueFd> mask_source(const InitContext& ctx) {
  std::string path = ctx.spec->root_path + "/dev/null";
  UniqueFd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) return Error::os("open " + path);
  return fd;
}
#endif

// CVE-2025-52881: sysctls are written through the init's private procfs,
// never through the container's /proc, where a mount (one the config
// places, or one a container sharing it races in) can stand on the file
// and take the write: a value meant for net.core.somaxconn lands in
// /proc/sys/kernel/core_pattern or a host file. A test-only build
// (BERTH_TEST_UNDEFEND=cve-2025-52881) writes through the container's
// /proc, so that tests/security can show this is what stops the attack.
#ifndef BERTH_UNDEFEND_CVE_2025_52881
Result<int> sysctl_procfs(InitContext& ctx, int) { return ctx.procfs.fd(); }
#else
Result<int> sysctl_procfs(InitContext& ctx, int root_fd) {
  auto own = open_in_root(root_fd, "proc", O_PATH | O_DIRECTORY);
  if (own) return own->release();  // closed at execve
  return ctx.procfs.fd();
}
#endif

// Masks and read-only paths, resolved inside the rootfs before pivot_root,
// while the host's /dev/null is still reachable as a bind source.
berth::Status apply_path_masks(const InitContext& ctx, int root_fd) {
  Kernel& k = *ctx.kernel;
  const Spec& spec = *ctx.spec;
  UniqueFd null_dev;
  for (const auto& p : spec.linux.masked_paths) {
    auto t = open_in_root(root_fd, p, O_PATH, true);
    if (!t) {
      if (t.error().code() == ENOENT) continue;
      return std::move(t).error().wrap("linux.maskedPaths " + p);
    }
    struct stat st;
    if (::fstat(t->get(), &st) < 0) return Error::os("stat " + p);
    std::string tp = fd_path(t->get());
    if (!S_ISDIR(st.st_mode) && !null_dev) null_dev = BERTH_TRY_CTX(mask_source(ctx), "linux.maskedPaths " + p);
    if (S_ISDIR(st.st_mode)) {
      if (k.mount("tmpfs", tp.c_str(), "tmpfs", MS_RDONLY, "size=0,mode=755") < 0)
        return Error::os("linux.maskedPaths: mask " + p);
    } else if (k.mount(fd_path(null_dev.get()).c_str(), tp.c_str(), nullptr, MS_BIND, nullptr) < 0) {
      return Error::os("linux.maskedPaths: mask " + p);
    }
  }
  for (const auto& p : spec.linux.readonly_paths) {
    auto t = open_in_root(root_fd, p, O_PATH, true);
    if (!t) {
      if (t.error().code() == ENOENT) continue;
      return std::move(t).error().wrap("linux.readonlyPaths " + p);
    }
    std::string tp = fd_path(t->get());
    if (k.mount(tp.c_str(), tp.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
      return Error::os("linux.readonlyPaths: bind " + p);
    UniqueFd again = BERTH_TRY(open_in_root(root_fd, p, O_PATH, true));
    BERTH_TRY_CTX(remount_bind(k, fd_path(again.get()), MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, p),
                  "linux.readonlyPaths");
  }
  return {};
}

}  // namespace

// A test-only build (BERTH_TEST_UNDEFEND=cve-2021-30465) resolves the path
// as the host sees it, symlinks and ".." leaving the rootfs, so that
// tests/security can show RESOLVE_IN_ROOT is what keeps the runtime's
// mkdir, mknod, unlink and mounts inside it.
#ifndef BERTH_UNDEFEND_CVE_2021_30465
Result<UniqueFd> open_in_root(int root_fd, const std::string& rel, int flags, bool nofollow) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | (nofollow ? RESOLVE_NO_SYMLINKS : 0);
  std::string r = strip_slashes(rel);
  if (r.empty()) r = ".";
  int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, r.c_str(), &how, sizeof how));
  if (fd < 0) return Error::os("open /" + r + " in rootfs");
  return UniqueFd(fd);
}
#else
Result<UniqueFd> open_in_root(int root_fd, const std::string& rel, int flags, bool nofollow) {
  std::string r = strip_slashes(rel);
  std::string path = fd_path(root_fd) + (r.empty() ? "" : "/" + r);
  int fd = ::open(path.c_str(), flags | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));
  if (fd < 0) return Error::os("open /" + r + " in rootfs");
  return UniqueFd(fd);
}
#endif

berth::Status prepare_rootfs(InitContext& ctx) {
  Kernel& k = *ctx.kernel;
  const Spec& spec = *ctx.spec;
  // Nothing we mount may propagate back to the host.
  if (k.mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) return Error::os("make / rslave");
  // Our own namespace's copy of the host /dev/null: a bind source must be
  // a mount of the caller's namespace.
  ctx.devnull_fd = BERTH_TRY(open_null_device()).release();
  const std::string& root = spec.root_path;
  if (k.mount(root.c_str(), root.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    return Error::os("bind rootfs " + root);
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd) return Error::os("open rootfs " + root);
  for (size_t i = 0; i < spec.mounts.size(); ++i) {
    int idfd = i < ctx.idmap_fds.size() ? ctx.idmap_fds[i] : -1;
    BERTH_TRY_CTX(mount_one(ctx, root_fd.get(), spec.mounts[i], idfd), "mounts[" + std::to_string(i) + "]");
  }
  BERTH_TRY(create_devices(k, root_fd.get(), spec));
  if (!spec.linux.sysctl.empty()) {
    int proc = BERTH_TRY_CTX(sysctl_procfs(ctx, root_fd.get()), "linux.sysctl");
    BERTH_TRY(write_sysctls(spec, proc));
  }
  BERTH_TRY(apply_path_masks(ctx, root_fd.get()));
  if (spec.process && spec.process->terminal) {
    // A placeholder for the console bind mount made after pivot_root.
    auto dev = open_in_root(root_fd.get(), "dev", O_PATH | O_DIRECTORY);
    if (dev) {
      int fd = ::openat(dev->get(), "console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
      if (fd >= 0) ::close(fd);
    }
  }
  return {};
}

berth::Status write_sysctls(const Spec& spec, int proc_fd) {
  for (const auto& [k, v] : spec.linux.sysctl) {
    std::string rel = k;
    for (auto& c : rel)
      if (c == '.') c = '/';
    // The key was checked for '/' and "..": it stays under sys/.
    BERTH_TRY_CTX(write_proc_file(proc_fd, "sys/" + rel, v), "linux.sysctl." + k);
  }
  return {};
}

berth::Status pivot_into_rootfs(Kernel& k, const Spec& spec, bool no_pivot) {
  const std::string& root = spec.root_path;
  if (k.chdir(root.c_str()) < 0) return Error::os("chdir " + root);
  if (no_pivot) {
    if (k.mount(root.c_str(), "/", nullptr, MS_MOVE, nullptr) < 0) return Error::os("move rootfs to /");
    if (k.chroot(".") < 0) return Error::os("chroot " + root);
  } else {
    UniqueFd old_root(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
    if (!old_root) return Error::os("open /");
    if (k.pivot_root(".", ".") < 0) return Error::os("pivot_root " + root);
    // The old root is stacked under the new one: detach it.
    if (k.fchdir(old_root.get()) < 0) return Error::os("fchdir old root");
    if (k.mount(nullptr, ".", nullptr, MS_SLAVE | MS_REC, nullptr) < 0) return Error::os("make old root rslave");
    if (k.umount2(".", MNT_DETACH) < 0) return Error::os("unmount old root");
  }
  if (k.chdir("/") < 0) return Error::os("chdir /");
  if (!spec.linux.rootfs_propagation.empty()) {
    Mount m;
    m.options = {spec.linux.rootfs_propagation};
    BERTH_TRY(parse_mount_options(m, "linux.rootfsPropagation"));
    if (k.mount(nullptr, "/", nullptr, m.propagation, nullptr) < 0)
      return Error::os("linux.rootfsPropagation: set on /");
  }
  return {};
}

berth::Status finish_rootfs(InitContext& ctx) {
  const Spec& spec = *ctx.spec;
  if (spec.root_readonly) BERTH_TRY_CTX(remount_bind(*ctx.kernel, "/", MS_RDONLY, "/"), "root.readonly");
  return {};
}

}  // namespace berth::runtime
