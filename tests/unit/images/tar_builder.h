// tar_builder.h — builds layer tarballs in memory with libarchive's writer,
// including the malformed and malicious ones real tools refuse to make.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "berth/base/fd.h"

namespace berth::images::testing {

enum class Compression { none, gzip, zstd };

class TarBuilder {
public:
  struct Options {
    mode_t mode = 0644;
    int64_t uid = 0;
    int64_t gid = 0;
    int64_t mtime = 1700000000;
    std::vector<std::pair<std::string, std::string>> xattrs;
  };

  TarBuilder& dir(const std::string& path, mode_t mode = 0755);
  TarBuilder& file(const std::string& path, const std::string& content, Options o);
  TarBuilder& file(const std::string& path, const std::string& content) { return file(path, content, Options{}); }
  TarBuilder& symlink(const std::string& path, const std::string& target);
  TarBuilder& hardlink(const std::string& path, const std::string& target);
  TarBuilder& device(const std::string& path, mode_t type, unsigned major, unsigned minor);
  TarBuilder& fifo(const std::string& path);

  /// The archive bytes (pax format), compressed as asked.
  std::string build(Compression c = Compression::none) const;

private:
  struct Item {
    std::string path;
    mode_t type = 0;
    Options o;
    std::string content;
    std::string link;
    bool hard = false;
    unsigned major = 0, minor = 0;
  };
  std::vector<Item> items_;
};

/// A memfd holding `data`, positioned at 0.
UniqueFd memfd_with(const std::string& data);

/// A fresh directory under $TMPDIR (or /tmp); removed by the caller.
std::string make_temp_dir(const std::string& tag);

/// Removes a temp dir, read-only directories inside it included.
bool remove_temp_dir(const std::string& dir);

/// Every path under `dir` (relative, recursive, symlinks not followed).
std::set<std::string> tree_listing(const std::string& dir);

/// `size` bytes that do not compress (a fixed pseudo-random sequence).
std::string noise(size_t size);

/// True when running as root (mknod, chown and trusted.* work).
bool is_root();

}  // namespace berth::images::testing
