// tar_builder.cpp — in-memory tarballs for the unpacker and store tests.
#include "tar_builder.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "tree.h"

namespace berth::images::testing {

TarBuilder& TarBuilder::dir(const std::string& path, mode_t mode) {
  Item i;
  i.path = path;
  i.type = AE_IFDIR;
  i.o.mode = mode;
  items_.push_back(i);
  return *this;
}

TarBuilder& TarBuilder::file(const std::string& path, const std::string& content, Options o) {
  Item i;
  i.path = path;
  i.type = AE_IFREG;
  i.o = std::move(o);
  i.content = content;
  items_.push_back(std::move(i));
  return *this;
}

TarBuilder& TarBuilder::symlink(const std::string& path, const std::string& target) {
  Item i;
  i.path = path;
  i.type = AE_IFLNK;
  i.o.mode = 0777;
  i.link = target;
  items_.push_back(i);
  return *this;
}

TarBuilder& TarBuilder::hardlink(const std::string& path, const std::string& target) {
  Item i;
  i.path = path;
  i.type = AE_IFREG;
  i.link = target;
  i.hard = true;
  items_.push_back(i);
  return *this;
}

TarBuilder& TarBuilder::device(const std::string& path, mode_t type, unsigned major, unsigned minor) {
  Item i;
  i.path = path;
  i.type = type == S_IFBLK ? AE_IFBLK : AE_IFCHR;
  i.o.mode = 0600;
  i.major = major;
  i.minor = minor;
  items_.push_back(i);
  return *this;
}

TarBuilder& TarBuilder::fifo(const std::string& path) {
  Item i;
  i.path = path;
  i.type = AE_IFIFO;
  i.o.mode = 0640;
  items_.push_back(i);
  return *this;
}

namespace {
la_ssize_t append_cb(archive*, void* ud, const void* buf, size_t n) {
  static_cast<std::string*>(ud)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}
void check(int r, archive* a, const char* what) {
  if (r < ARCHIVE_WARN) throw std::runtime_error(std::string(what) + ": " + (archive_error_string(a) ?: "?"));
}
}  // namespace

std::string TarBuilder::build(Compression c) const {
  std::string out;
  archive* a = archive_write_new();
  check(archive_write_set_format_pax_restricted(a), a, "format");
  if (c == Compression::gzip) check(archive_write_add_filter_gzip(a), a, "gzip");
  if (c == Compression::zstd) check(archive_write_add_filter_zstd(a), a, "zstd");
  check(archive_write_set_bytes_in_last_block(a, 1), a, "block");
  check(archive_write_open2(a, &out, nullptr, append_cb, nullptr, nullptr), a, "open");
  for (const Item& i : items_) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, i.path.c_str());
    archive_entry_set_filetype(e, i.type);
    archive_entry_set_perm(e, i.o.mode);
    archive_entry_set_uid(e, i.o.uid);
    archive_entry_set_gid(e, i.o.gid);
    archive_entry_set_mtime(e, i.o.mtime, 0);
    if (i.hard) archive_entry_set_hardlink(e, i.link.c_str());
    if (i.type == AE_IFLNK) archive_entry_set_symlink(e, i.link.c_str());
    if (i.type == AE_IFCHR || i.type == AE_IFBLK) {
      archive_entry_set_rdevmajor(e, i.major);
      archive_entry_set_rdevminor(e, i.minor);
    }
    for (const auto& [k, v] : i.o.xattrs) archive_entry_xattr_add_entry(e, k.c_str(), v.data(), v.size());
    if (i.type == AE_IFREG && !i.hard) archive_entry_set_size(e, static_cast<int64_t>(i.content.size()));
    check(archive_write_header(a, e), a, "header");
    if (!i.content.empty()) archive_write_data(a, i.content.data(), i.content.size());
    archive_entry_free(e);
  }
  check(archive_write_close(a), a, "close");
  archive_write_free(a);
  return out;
}

UniqueFd memfd_with(const std::string& data) {
  UniqueFd fd(::memfd_create("layer", MFD_CLOEXEC));
  if (!fd) throw std::runtime_error("memfd_create");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + off, data.size() - off);
    if (n <= 0) throw std::runtime_error("write memfd");
    off += static_cast<size_t>(n);
  }
  ::lseek(fd.get(), 0, SEEK_SET);
  return fd;
}

std::string make_temp_dir(const std::string& tag) {
  const char* base = ::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/berth-" + tag + ".XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl);
  return tmpl;
}

bool remove_temp_dir(const std::string& dir) {
  auto st = remove_tree_at(AT_FDCWD, dir, dir);
  if (!st) std::fprintf(stderr, "remove %s: %s\n", dir.c_str(), st.error().what().c_str());
  return st.ok();
}

namespace {
void walk(const std::string& root, const std::string& rel, std::set<std::string>& out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = ::readdir(d)) {
    if (!std::strcmp(e->d_name, ".") || !std::strcmp(e->d_name, "..")) continue;
    std::string r = rel.empty() ? e->d_name : rel + "/" + e->d_name;
    out.insert(r);
    struct stat st;
    if (::lstat((root + "/" + r).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) walk(root, r, out);
  }
  ::closedir(d);
}
}  // namespace

std::set<std::string> tree_listing(const std::string& dir) {
  std::set<std::string> out;
  walk(dir, "", out);
  return out;
}

std::string noise(size_t size) {
  std::string out(size, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ull;
  for (auto& c : out) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    c = static_cast<char>(x >> 32);
  }
  return out;
}

bool is_root() { return ::geteuid() == 0; }

}  // namespace berth::images::testing
