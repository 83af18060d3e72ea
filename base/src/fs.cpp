// fs.cpp — file helpers.
#include "berth/base/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <random>

namespace berth::fs {

Result<std::string> read_file_at(int dirfd, const std::string& path, size_t limit) {
  UniqueFd fd(::openat(dirfd, path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return Error::os("open " + path);
  return read_fd(fd.get(), path, limit);
}

Result<std::string> read_fd(int fd, const std::string& path, size_t limit) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::os("read " + path);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > limit) return Error(EFBIG, "read " + path);
  }
  return out;
}

Result<std::string> read_file(const std::string& path, size_t limit) {
  return read_file_at(AT_FDCWD, path, limit);
}

static Status write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::os("write " + path);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode));
  if (!fd) return Error::os("create " + tmp);
  Defer unlink_tmp([&] { ::unlink(tmp.c_str()); });
  BERTH_TRY(write_all(fd.get(), data, tmp));
  if (::fsync(fd.get()) < 0) return Error::os("fsync " + tmp);
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) < 0) return Error::os("rename " + tmp + " to " + path);
  unlink_tmp.dismiss();
  UniqueFd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd && ::fsync(dfd.get()) < 0) return Error::os("fsync " + dir);
  return {};
}

Status write_file(const std::string& path, std::string_view data) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd) return Error::os("open " + path);
  ssize_t n;
  do {
    n = ::write(fd.get(), data.data(), data.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::os("write " + path);
  return {};
}

Status mkdir_p(const std::string& path, mode_t mode) {
  if (path.empty()) return {};
  std::string cur;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    if (!cur.empty() && ::mkdir(cur.c_str(), mode) < 0 && errno != EEXIST) return Error::os("mkdir " + cur);
    i = j + 1;
  }
  struct stat st;
  if (::stat(path.c_str(), &st) < 0) return Error::os("stat " + path);
  if (!S_ISDIR(st.st_mode)) return Error(ENOTDIR, "mkdir " + path);
  return {};
}

static Status remove_at(int dirfd, const char* name, const std::string& shown) {
  if (::unlinkat(dirfd, name, 0) == 0 || errno == ENOENT) return {};
  if (errno != EISDIR && errno != EPERM) return Error::os("unlink " + shown);
  UniqueFd fd(::openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return Error::os("open " + shown);
  DIR* d = ::fdopendir(fd.get());
  if (!d) return Error::os("opendir " + shown);
  int dfd = fd.release();
  (void)dfd;
  Status st;
  while (struct dirent* e = ::readdir(d)) {
    if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
    st = remove_at(::dirfd(d), e->d_name, shown + "/" + e->d_name);
    if (!st) break;
  }
  ::closedir(d);
  if (!st) return st;
  if (::unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) return Error::os("rmdir " + shown);
  return {};
}

Status remove_tree(const std::string& path) { return remove_at(AT_FDCWD, path.c_str(), path); }

Result<std::vector<std::string>> list_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return Error::os("opendir " + path);
  std::vector<std::string> out;
  while (struct dirent* e = ::readdir(d)) {
    if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
    out.emplace_back(e->d_name);
  }
  ::closedir(d);
  return out;
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string join(std::string_view a, std::string_view b) {
  std::string out(a);
  while (!out.empty() && out.back() == '/') out.pop_back();
  while (!b.empty() && b.front() == '/') b.remove_prefix(1);
  out += '/';
  out += b;
  return out;
}

std::string absolute(const std::string& path) {
  std::string in = path;
  if (in.empty() || in[0] != '/') {
    char buf[4096];
    if (::getcwd(buf, sizeof buf)) in = std::string(buf) + "/" + in;
  }
  std::string out;
  size_t i = 0;
  while (i < in.size()) {
    size_t j = in.find('/', i);
    if (j == std::string::npos) j = in.size();
    std::string_view part(in.data() + i, j - i);
    if (!part.empty() && part != ".") {
      out += '/';
      out += part;
    }
    i = j + 1;
  }
  return out.empty() ? "/" : out;
}

}  // namespace berth::fs
