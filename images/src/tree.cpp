// tree.cpp — fd-relative tree helpers.
#include "tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstring>
#include <vector>

namespace berth::images {

Result<UniqueFd> open_in_root(int root_fd, const std::string& rel, int flags, uint64_t extra_resolve, mode_t mode) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | extra_resolve;
  const char* p = rel.empty() ? "." : rel.c_str();
  for (;;) {
    int fd = static_cast<int>(::syscall(SYS_openat2, root_fd, p, &how, sizeof how));
    if (fd >= 0) return UniqueFd(fd);
    // The kernel asks for a retry when a rename raced the lookup.
    if (errno != EAGAIN && errno != EINTR) return Error::os("open " + rel);
  }
}

Result<UniqueFd> resolve_dir(int root_fd, const std::string& rel, bool create, mode_t mode) {
  auto whole = open_in_root(root_fd, rel, O_PATH | O_DIRECTORY);
  if (whole || !create || whole.error().code() != ENOENT) return whole;
  UniqueFd cur(::openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!cur) return Error::os("open .");
  size_t i = 0;
  while (i < rel.size()) {
    size_t j = rel.find('/', i);
    if (j == std::string::npos) j = rel.size();
    std::string prefix = rel.substr(0, j);
    std::string comp = rel.substr(i, j - i);
    i = j + 1;
    auto next = open_in_root(root_fd, prefix, O_PATH | O_DIRECTORY);
    if (next) {
      cur = std::move(*next);
      continue;
    }
    if (next.error().code() != ENOENT) return next;
    // `cur` was resolved inside the root and `comp` is one plain name.
    if (::mkdirat(cur.get(), comp.c_str(), mode) < 0 && errno != EEXIST) return Error::os("mkdir " + prefix);
    UniqueFd fd(::openat(cur.get(), comp.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) return Error(ENOTDIR, "open " + prefix + " (not a directory, or a dangling symlink)");
    cur = std::move(fd);
  }
  return cur;
}

namespace {

// Empties the open directory `dfd` of everything but subdirectories and
// returns the name of one subdirectory, or "" when none is left.
Result<std::string> clear_files(int dfd, const std::string& shown) {
  int dup = ::fcntl(dfd, F_DUPFD_CLOEXEC, 0);
  if (dup < 0) return Error::os("dup " + shown);
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return Error::os("opendir " + shown);
  }
  std::string subdir;
  Status st;
  while (struct dirent* e = ::readdir(d)) {
    if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
    if (::unlinkat(dfd, e->d_name, 0) == 0 || errno == ENOENT) continue;
    if (errno == EISDIR || errno == EPERM) {
      if (subdir.empty()) subdir = e->d_name;
      continue;
    }
    st = Error::os("unlink " + shown + "/" + e->d_name);
    break;
  }
  ::closedir(d);
  if (!st) return std::move(st).error();
  return subdir;
}

void make_writable(int dfd) {
  struct stat s;
  if (::fstat(dfd, &s) == 0 && (s.st_mode & 0700) != 0700) (void)::fchmod(dfd, (s.st_mode & 07777) | 0700);
}

}  // namespace

Status remove_tree_at(int dirfd, const std::string& name, const std::string& shown) {
  if (::unlinkat(dirfd, name.c_str(), 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return Error::os("unlink " + shown);
  UniqueFd cur(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!cur) return Error::os("open " + shown);
  make_writable(cur.get());
  // Depth-first with one open directory at a time: a layer can nest deeper
  // than the fd limit would allow a recursive walk to go.
  std::vector<std::string> stack;
  for (;;) {
    std::string where = shown;
    for (const auto& s : stack) where += "/" + s;
    std::string sub = BERTH_TRY(clear_files(cur.get(), where));
    if (!sub.empty()) {
      UniqueFd child(::openat(cur.get(), sub.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child) return Error::os("open " + where + "/" + sub);
      make_writable(child.get());
      stack.push_back(std::move(sub));
      cur = std::move(child);
      continue;
    }
    if (stack.empty()) break;
    UniqueFd parent(::openat(cur.get(), "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!parent) return Error::os("open " + where + "/..");
    if (::unlinkat(parent.get(), stack.back().c_str(), AT_REMOVEDIR) < 0) return Error::os("rmdir " + where);
    stack.pop_back();
    cur = std::move(parent);
  }
  cur.reset();
  if (::unlinkat(dirfd, name.c_str(), AT_REMOVEDIR) < 0 && errno != ENOENT) return Error::os("rmdir " + shown);
  return {};
}

Result<std::vector<std::string>> list_dir_fd(int dirfd, const std::string& shown) {
  int dup = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dup < 0) return Error::os("open " + shown);
  DIR* d = ::fdopendir(dup);
  if (!d) {
    ::close(dup);
    return Error::os("opendir " + shown);
  }
  std::vector<std::string> out;
  while (struct dirent* e = ::readdir(d))
    if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) out.emplace_back(e->d_name);
  ::closedir(d);
  return out;
}

Result<UniqueFd> lock_file(const std::string& path, bool exclusive) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return Error::os("open lock " + path);
  while (::flock(fd.get(), exclusive ? LOCK_EX : LOCK_SH) < 0)
    if (errno != EINTR) return Error::os("lock " + path);
  return fd;
}

Result<UniqueFd> open_dir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return Error::os("open " + path);
  return fd;
}

Status fsync_dir(const std::string& path) {
  UniqueFd fd = BERTH_TRY(open_dir(path));
  if (::fsync(fd.get()) < 0) return Error::os("fsync " + path);
  return {};
}

}  // namespace berth::images
