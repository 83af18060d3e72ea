// netns.cpp — pinned network namespaces.
#include "berth/net/netns.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cstdlib>

#include "berth/base/fs.h"
#include "berth/net/addr.h"

namespace berth::net {
namespace {

bool is_mount_point(const std::string& dir) {
  struct stat self, parent;
  if (::stat(dir.c_str(), &self) < 0 || ::stat((dir + "/..").c_str(), &parent) < 0) return false;
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

// Like iproute2's /run/netns: a shared mount, so a pin unmounted here is
// unmounted in every mount namespace that copied it.
Status make_shared_dir(const std::string& dir) {
  BERTH_TRY(fs::mkdir_p(dir, 0755));
  if (::mount("", dir.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) == 0) return ok();
  if (errno != EINVAL) return Error::os("make " + dir + " a shared mount");
  if (!is_mount_point(dir) && ::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0)
    return Error::os("bind mount " + dir + " on itself");
  if (::mount("", dir.c_str(), nullptr, MS_SHARED | MS_REC, nullptr) < 0)
    return Error::os("make " + dir + " a shared mount");
  return ok();
}

}  // namespace

Result<std::string> create_netns(const std::string& dir, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return Error::msg("create netns \"" + name + "\": not a valid name");
  std::string path = fs::join(dir, name);
  std::string what = "create netns " + path;
  if (!is_mount_point(dir)) BERTH_TRY_CTX(make_shared_dir(dir), what);
  UniqueFd pin(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!pin) return Error::os(what);
  pin.reset();
  UniqueFd self(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!self) return Error::os("open /proc/thread-self/ns/net");
  if (::unshare(CLONE_NEWNET) < 0) {
    Error e = Error::os(what + ": unshare");
    ::unlink(path.c_str());
    return e;
  }
  Status st;
  if (::mount("/proc/thread-self/ns/net", path.c_str(), nullptr, MS_BIND, nullptr) < 0)
    st = Error::os(what + ": bind mount");
  if (::setns(self.get(), CLONE_NEWNET) < 0) std::abort();  // see Netlink::open_in
  if (!st) {
    ::unlink(path.c_str());
    return std::move(st).error();
  }
  return path;
}

Result<std::string> pin_netns(const std::string& dir, const std::string& name, const std::string& source) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    return Error::msg("pin netns \"" + name + "\": not a valid name");
  std::string path = fs::join(dir, name);
  std::string what = "pin netns " + source + " at " + path;
  BERTH_TRY_CTX(open_netns(source), what);
  if (!is_mount_point(dir)) BERTH_TRY_CTX(make_shared_dir(dir), what);
  UniqueFd pin(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444));
  if (!pin) return Error::os(what);
  pin.reset();
  if (::mount(source.c_str(), path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
    Error e = Error::os(what + ": bind mount");
    ::unlink(path.c_str());
    return e;
  }
  return path;
}

Status remove_netns(const std::string& path) {
  if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    return Error::os("unmount netns " + path);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) return Error::os("remove netns " + path);
  return ok();
}

Result<UniqueFd> open_netns(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Error::os("open netns " + path);
  struct statfs sfs;
  if (::fstatfs(fd.get(), &sfs) < 0) return Error::os("statfs " + path);
  if (sfs.f_type != NSFS_MAGIC) return Error(EINVAL, "open netns " + path + ": not a namespace file");
  int type = ::ioctl(fd.get(), NS_GET_NSTYPE);
  if (type != CLONE_NEWNET) return Error(EINVAL, "open netns " + path + ": not a network namespace");
  return fd;
}

}  // namespace berth::net
