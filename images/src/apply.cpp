// apply.cpp — creates tar entries inside the target tree. Every parent is
// resolved inside the root (tree.h); the last component is only ever used
// with *at() calls that do not follow it, so a symlink planted by an
// earlier entry can redirect nothing outside the tree.
#include "apply.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>

#include "tree.h"

namespace berth::images {

namespace {

std::pair<std::string, std::string> split(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

std::string join(const std::string& dir, const std::string& name) { return dir == "." ? name : dir + "/" + name; }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

Status write_all_at(int fd, const char* p, size_t n, int64_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, off);
    if (w < 0) {
      if (errno == EINTR) continue;
      return Error::os("write");
    }
    p += w;
    n -= static_cast<size_t>(w);
    off += w;
  }
  return {};
}

}  // namespace

Status Applier::apply(const TarEntry& e, DataSource& data) {
  auto [dir, base] = split(e.path);
  if (starts_with(base, ".wh.")) {
    if (base == ".wh..wh..opq") return opaque(dir);
    if (starts_with(base, ".wh..wh.")) return {};  // aufs bookkeeping, nothing to apply
    std::string name = base.substr(4);
    if (name.empty() || name == "." || name == "..") return Error::msg("whiteout names no file");
    return whiteout(dir, name);
  }
  if (e.path == ".") {
    if (e.type != S_IFDIR) return Error::msg("the root entry must be a directory");
    UniqueFd fd(::openat(root_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return Error::os("open the target directory");
    BERTH_TRY(set_owner_fd(e, fd.get()));
    BERTH_TRY(set_xattrs(e, fd.get()));
    return defer_dir(e, fd.get());
  }
  int pfd = BERTH_TRY(parent_fd(dir));
  if (e.hardlink) {
    BERTH_TRY(make_hardlink(e, pfd, base));
  } else if (e.type == S_IFREG) {
    BERTH_TRY(make_file(e, pfd, base, data));
  } else if (e.type == S_IFDIR) {
    BERTH_TRY(make_dir(e, pfd, base));
  } else {
    BERTH_TRY(make_node(e, pfd, base));
  }
  if (opts_.mode == LayerMode::flatten) touch(e.path);
  return {};
}

Result<int> Applier::parent_fd(const std::string& dir) {
  if (cached_fd_ && cached_parent_ == dir) return cached_fd_.get();
  auto fd = resolve_dir(root_, dir, true);
  if (!fd) return std::move(fd).error().wrap("parent directory");
  cached_fd_ = std::move(*fd);
  cached_parent_ = dir;
  return cached_fd_.get();
}

Status Applier::clear_slot(int pfd, const std::string& base, bool keep_dir, bool* kept_dir) {
  if (kept_dir) *kept_dir = false;
  struct stat st;
  if (::fstatat(pfd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
    if (errno == ENOENT) return {};
    return Error::os("stat existing entry");
  }
  if (keep_dir && S_ISDIR(st.st_mode)) {
    *kept_dir = true;
    return {};
  }
  forget_parent();
  return remove_tree_at(pfd, base, "existing entry");
}

Status Applier::make_file(const TarEntry& e, int pfd, const std::string& base, DataSource& data) {
  BERTH_TRY(clear_slot(pfd, base, false, nullptr));
  UniqueFd fd(::openat(pfd, base.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return Error::os("create file");
  int64_t end = 0;
  const void* buf;
  size_t len;
  int64_t off;
  while (BERTH_TRY(data.next(&buf, &len, &off))) {
    BERTH_TRY(write_all_at(fd.get(), static_cast<const char*>(buf), len, off));
    end = std::max(end, off + static_cast<int64_t>(len));
  }
  // A sparse file may end in a hole.
  if (end < e.size && ::ftruncate(fd.get(), e.size) < 0) return Error::os("truncate file");
  BERTH_TRY(set_owner_fd(e, fd.get()));
  BERTH_TRY(set_xattrs(e, fd.get()));  // after chown, which clears security.capability
  if (::fchmod(fd.get(), e.perm) < 0) return Error::os("chmod");
  struct timespec ts[2] = {e.atime, e.mtime};
  if (::futimens(fd.get(), ts) < 0) return Error::os("set times");
  return {};
}

Status Applier::make_dir(const TarEntry& e, int pfd, const std::string& base) {
  bool kept = false;
  BERTH_TRY(clear_slot(pfd, base, true, &kept));
  if (!kept && ::mkdirat(pfd, base.c_str(), 0700) < 0) return Error::os("mkdir");
  UniqueFd fd(::openat(pfd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return Error::os("open directory");
  BERTH_TRY(set_owner_fd(e, fd.get()));
  BERTH_TRY(set_xattrs(e, fd.get()));
  // Writable until finish(), so the entries below it can be created even
  // when its final mode is read-only and we are not root.
  if (::fchmod(fd.get(), (e.perm & 07777) | 0700) < 0) return Error::os("chmod");
  return defer_dir(e, fd.get());
}

Status Applier::make_hardlink(const TarEntry& e, int pfd, const std::string& base) {
  const std::string& target = *e.hardlink;
  if (target == ".") return Error::msg("hardlink to the root directory");
  auto [tdir, tbase] = split(target);
  auto tfd = resolve_dir(root_, tdir, false);
  if (!tfd) return std::move(tfd).error().wrap("hardlink target " + target);
  struct stat ts;
  if (::fstatat(tfd->get(), tbase.c_str(), &ts, AT_SYMLINK_NOFOLLOW) < 0)
    return Error::os("hardlink target " + target);
  if (S_ISDIR(ts.st_mode)) return Error::msg("hardlink target " + target + " is a directory");
  struct stat cur;
  if (::fstatat(pfd, base.c_str(), &cur, AT_SYMLINK_NOFOLLOW) == 0 && cur.st_dev == ts.st_dev &&
      cur.st_ino == ts.st_ino)
    return {};
  BERTH_TRY(clear_slot(pfd, base, false, nullptr));
  // Both ends are a resolved directory plus one plain name, and flags 0
  // does not follow a symlink at the old end.
  if (::linkat(tfd->get(), tbase.c_str(), pfd, base.c_str(), 0) < 0) return Error::os("hardlink to " + target);
  return {};
}

Status Applier::make_node(const TarEntry& e, int pfd, const std::string& base) {
  switch (e.type) {
    case S_IFLNK:
      BERTH_TRY(clear_slot(pfd, base, false, nullptr));
      if (::symlinkat(e.symlink.c_str(), pfd, base.c_str()) < 0) return Error::os("symlink to " + e.symlink);
      break;
    case S_IFCHR:
    case S_IFBLK:
      if (!opts_.create_devices) return {};
      [[fallthrough]];
    case S_IFIFO:
      BERTH_TRY(clear_slot(pfd, base, false, nullptr));
      if (::mknodat(pfd, base.c_str(), e.type | (e.perm & 0777), e.type == S_IFIFO ? 0 : e.rdev) < 0)
        return Error::os(e.type == S_IFIFO ? "mkfifo" : "mknod");
      break;
    default:
      return {};  // sockets and unknown types carry nothing to restore
  }
  BERTH_TRY(set_owner_at(e, pfd, base));
  if (e.type != S_IFLNK && ::fchmodat(pfd, base.c_str(), e.perm, AT_SYMLINK_NOFOLLOW) < 0)
    return Error::os("chmod");
  struct timespec ts[2] = {e.atime, e.mtime};
  if (::utimensat(pfd, base.c_str(), ts, AT_SYMLINK_NOFOLLOW) < 0) return Error::os("set times");
  return {};
}

Result<std::pair<uid_t, gid_t>> Applier::host_ids(const TarEntry& e) const {
  auto map = [&](int64_t id, uint32_t offset, const char* what) -> Result<uint32_t> {
    if (id < 0 || id >= 0xffffffffll)
      return Error::msg(std::string(what) + " " + std::to_string(id) + " is out of range");
    if (!opts_.id_shift) return static_cast<uint32_t>(id);
    if (id >= opts_.id_shift->size)
      return Error::msg(std::string(what) + " " + std::to_string(id) + " is outside the " +
                        std::to_string(opts_.id_shift->size) + " ids of the user namespace");
    uint64_t host = static_cast<uint64_t>(id) + offset;
    if (host >= 0xffffffffull) return Error::msg(std::string(what) + " " + std::to_string(id) + " shifts out of range");
    return static_cast<uint32_t>(host);
  };
  uint32_t uid = BERTH_TRY(map(e.uid, opts_.id_shift ? opts_.id_shift->uid : 0, "uid"));
  uint32_t gid = BERTH_TRY(map(e.gid, opts_.id_shift ? opts_.id_shift->gid : 0, "gid"));
  return std::pair<uid_t, gid_t>(uid, gid);
}

Status Applier::set_owner_fd(const TarEntry& e, int fd) {
  if (!opts_.set_owner) return {};
  auto [uid, gid] = BERTH_TRY(host_ids(e));
  if (::fchown(fd, uid, gid) < 0) return Error::os("chown to " + std::to_string(uid) + ":" + std::to_string(gid));
  return {};
}

Status Applier::set_owner_at(const TarEntry& e, int pfd, const std::string& base) {
  if (!opts_.set_owner) return {};
  auto [uid, gid] = BERTH_TRY(host_ids(e));
  if (::fchownat(pfd, base.c_str(), uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
    return Error::os("chown to " + std::to_string(uid) + ":" + std::to_string(gid));
  return {};
}

Status Applier::set_xattrs(const TarEntry& e, int fd) {
  for (const auto& [name, value] : e.xattrs) {
    // Overlay metadata (opaque, redirect, metacopy) comes only from this
    // unpacker's own markers, never from the layer's content.
    if (starts_with(name, "trusted.overlay.") || starts_with(name, "user.overlay.") ||
        starts_with(name, opts_.overlay_xattr_prefix))
      continue;
    if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) < 0 && !opts_.ignore_xattr_errors)
      return Error::os("set xattr " + name);
  }
  return {};
}

Status Applier::defer_dir(const TarEntry& e, int fd) {
  struct stat st;
  if (::fstat(fd, &st) < 0) return Error::os("stat directory");
  DirMeta m{e.path, st.st_dev, st.st_ino, e.perm, {e.atime, e.mtime}};
  auto [it, added] = dir_index_.emplace(e.path, dirs_.size());
  if (added)
    dirs_.push_back(std::move(m));
  else
    dirs_[it->second] = std::move(m);
  return {};
}

Status Applier::finish() {
  // Reverse order: children were recorded after their parents, so a
  // read-only parent is closed only after everything below it is done.
  for (size_t i = dirs_.size(); i-- > 0;) {
    const DirMeta& m = dirs_[i];
    auto fd = open_in_root(root_, m.path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    if (!fd) {
      int err = fd.error().code();
      if (err == ENOENT || err == ELOOP || err == ENOTDIR) continue;  // replaced by a later entry
      return std::move(fd).error().wrap("directory " + m.path);
    }
    struct stat st;
    if (::fstat(fd->get(), &st) < 0) return Error::os("stat directory " + m.path);
    if (st.st_dev != m.dev || st.st_ino != m.ino) continue;
    if (::fchmod(fd->get(), m.perm) < 0) return Error::os("chmod directory " + m.path);
    if (::futimens(fd->get(), m.times) < 0) return Error::os("set times of directory " + m.path);
  }
  return {};
}

Status Applier::whiteout(const std::string& dir, const std::string& name) {
  std::string path = join(dir, name);
  if (opts_.mode == LayerMode::overlay) {
    int pfd = BERTH_TRY(parent_fd(dir));
    struct stat st;
    if (::fstatat(pfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) return {};  // this layer's own entry wins
    // A 0/0 character device is overlayfs' whiteout; since Linux 5.8 an
    // unprivileged caller may make one.
    if (::mknodat(pfd, name.c_str(), S_IFCHR | 0, makedev(0, 0)) < 0) return Error::os("make whiteout for " + path);
    return {};
  }
  if (touched(path)) return {};
  auto pfd = resolve_dir(root_, dir, false);
  if (!pfd) {
    int err = pfd.error().code();
    if (err == ENOENT || err == ENOTDIR) return {};  // nothing below to delete
    return std::move(pfd).error();
  }
  forget_parent();
  return remove_tree_at(pfd->get(), name, path);
}

Status Applier::opaque(const std::string& dir) {
  if (opts_.mode == LayerMode::overlay) {
    int pfd = BERTH_TRY(parent_fd(dir));
    UniqueFd fd(::openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return Error::os("open opaque directory " + dir);
    std::string name = opts_.overlay_xattr_prefix + "opaque";
    // Never ignored: losing the marker would show the lower directory.
    if (::fsetxattr(fd.get(), name.c_str(), "y", 1, 0) < 0) return Error::os("set " + name + " on " + dir);
    return {};
  }
  auto dfd = open_in_root(root_, dir, O_RDONLY | O_DIRECTORY);
  if (!dfd) return dfd.error().code() == ENOENT ? Status{} : Status(std::move(dfd).error());
  std::vector<std::string> doomed;
  for (auto& n : BERTH_TRY(list_dir_fd(dfd->get(), dir)))
    if (!touched(join(dir, n))) doomed.push_back(std::move(n));
  forget_parent();
  for (const auto& n : doomed) BERTH_TRY(remove_tree_at(dfd->get(), n, join(dir, n)));
  return {};
}

void Applier::touch(const std::string& path) {
  std::string p = path;
  while (touched_.insert(p).second) {
    auto slash = p.rfind('/');
    if (slash == std::string::npos) break;
    p.resize(slash);
  }
}

}  // namespace berth::images
