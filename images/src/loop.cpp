// loop.cpp — loop device attach (LOOP_CONFIGURE), capacity, sparse copy
// (SEEK_DATA/SEEK_HOLE + copy_file_range) and FIFREEZE.
#include "loop.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "berth/base/fs.h"

namespace berth::images::loop {

Result<UniqueFd> attach(const std::string& image, bool read_only, std::string* dev) {
  UniqueFd file(::open(image.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC));
  if (!file.valid()) return Error::os("open " + image);
  UniqueFd ctl(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!ctl.valid()) return Error::os("open /dev/loop-control");
  // Another process may take the free device between GET_FREE and
  // CONFIGURE (EBUSY): ask again.
  for (int attempt = 0; attempt < 64; ++attempt) {
    int n = ::ioctl(ctl.get(), LOOP_CTL_GET_FREE);
    if (n < 0) return Error::os("get a free loop device");
    std::string path = "/dev/loop" + std::to_string(n);
    UniqueFd lo(::open(path.c_str(), (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC));
    if (!lo.valid()) return Error::os("open " + path);
    loop_config cfg;
    std::memset(&cfg, 0, sizeof cfg);
    cfg.fd = static_cast<uint32_t>(file.get());
    cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR | (read_only ? LO_FLAGS_READ_ONLY : 0);
    std::strncpy(reinterpret_cast<char*>(cfg.info.lo_file_name), image.c_str(), LO_NAME_SIZE - 1);
    if (::ioctl(lo.get(), LOOP_CONFIGURE, &cfg) == 0) {
      if (dev) *dev = path;
      return lo;
    }
    if (errno != EBUSY) return Error::os("attach " + image + " to " + path);
  }
  return Error(EBUSY, "attach " + image + ": no loop device stayed free");
}

namespace {

// A small file's text without its trailing newlines.
Result<std::string> read_line(const std::string& path) {
  std::string text = BERTH_TRY(fs::read_file(path, 4096));
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

// The file /sys/block/NAME/loop/backing_file names; empty when NAME is
// not bound.
std::string backing_file(const std::string& name) {
  auto b = read_line("/sys/block/" + name + "/loop/backing_file");
  return b ? std::move(*b) : std::string();
}

bool loop_name(std::string_view n) {
  if (n.size() < 5 || n.substr(0, 4) != "loop") return false;
  for (char c : n.substr(4))
    if (c < '0' || c > '9') return false;
  return true;
}

}  // namespace

Result<std::string> attached_to(const std::string& image, const std::string& hint) {
  char* real = ::realpath(image.c_str(), nullptr);
  if (!real) return Error::os("resolve " + image);
  std::string want(real);
  std::free(real);
  if (!hint.empty()) {
    auto noted = read_line(hint);
    if (noted) {
      // A note cut short by a crash, or one written just before an
      // attach, is no answer: scan.
      if (loop_name(*noted)) return backing_file(*noted) == want ? "/dev/" + *noted : std::string();
      if (*noted == kNeverAttached) return std::string();
    } else if (noted.error().code() != ENOENT) {
      return std::move(noted).error();
    }
  }
  auto names = BERTH_TRY(fs::list_dir("/sys/block"));
  for (const auto& n : names)
    if (loop_name(n) && backing_file(n) == want) return "/dev/" + n;
  return std::string();
}

Status note_attached(const std::string& hint, const std::string& dev) {
  std::string line = dev.substr(dev.rfind('/') + 1) + "\n";
  UniqueFd fd(::open(hint.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return Error::os("create " + hint);
  if (::write(fd.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size())) return Error::os("write " + hint);
  return ok();
}

Result<std::string> device_mounted_at(const std::string& mountpoint) {
  std::ifstream in("/proc/self/mountinfo");
  if (!in) return Error::os("open /proc/self/mountinfo");
  std::string line, found;
  while (std::getline(in, line)) {
    // id parent major:minor root mountpoint opts ... - fstype source superopts
    std::istringstream ss(line);
    std::string id, parent, devno, root, mp;
    ss >> id >> parent >> devno >> root >> mp;
    if (mp != mountpoint) continue;
    size_t dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream rest(line.substr(dash + 3));
    std::string type, source;
    rest >> type >> source;
    found = source;  // the last one mounted there is on top
  }
  return found;
}

Status set_capacity(const std::string& dev) {
  UniqueFd lo(::open(dev.c_str(), O_RDONLY | O_CLOEXEC));
  if (!lo.valid()) return Error::os("open " + dev);
  if (::ioctl(lo.get(), LOOP_SET_CAPACITY, 0) < 0) return Error::os("set capacity of " + dev);
  return ok();
}

Status copy_sparse(const std::string& src, const std::string& dst) {
  UniqueFd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in.valid()) return Error::os("open " + src);
  struct stat st;
  if (::fstat(in.get(), &st) < 0) return Error::os("stat " + src);
  UniqueFd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out.valid()) return Error::os("create " + dst);
  off_t pos = 0;
  while (pos < st.st_size) {
    off_t data = ::lseek(in.get(), pos, SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only a hole remains
      return Error::os("seek data in " + src);
    }
    off_t hole = ::lseek(in.get(), data, SEEK_HOLE);
    if (hole < 0) return Error::os("seek hole in " + src);
    loff_t off_in = data, off_out = data;
    size_t left = static_cast<size_t>(hole - data);
    while (left > 0) {
      ssize_t n = ::copy_file_range(in.get(), &off_in, out.get(), &off_out, left, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error::os("copy " + src + " to " + dst);
      if (n == 0) break;
      left -= static_cast<size_t>(n);
    }
    pos = hole;
  }
  if (::ftruncate(out.get(), st.st_size) < 0) return Error::os("size " + dst);
  if (::fsync(out.get()) < 0) return Error::os("fsync " + dst);
  return ok();
}

Result<Freeze> Freeze::at(const std::string& mountpoint) {
  UniqueFd fd(::open(mountpoint.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Error::os("open " + mountpoint);
  if (::ioctl(fd.get(), FIFREEZE, 0) < 0) return Error::os("freeze the file system at " + mountpoint);
  return Freeze(std::move(fd));
}

Freeze::~Freeze() {
  if (fd_.valid()) (void)::ioctl(fd_.get(), FITHAW, 0);
}

bool is_mount_of(const std::string& path, int64_t magic) {
  struct statfs sf;
  if (::statfs(path.c_str(), &sf) < 0 || static_cast<int64_t>(sf.f_type) != magic) return false;
  struct stat self, parent;
  if (::stat(path.c_str(), &self) < 0 || ::stat((path + "/..").c_str(), &parent) < 0) return false;
  return self.st_dev != parent.st_dev || self.st_ino == parent.st_ino;
}

}  // namespace berth::images::loop
