// apply.h — applies parsed tar entries to a directory tree (the half of
// the unpacker that touches the file system; unpack.cpp reads the archive).
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "berth/base/fd.h"
#include "berth/images/unpack.h"

namespace berth::images {

/// One archive entry, already decoded; `path` and `hardlink` are clean.
struct TarEntry {
  std::string raw;   // the path as written in the archive, for messages
  std::string path;  // clean_entry_path(raw)
  mode_t type = 0;   // S_IFREG, S_IFDIR, ...
  mode_t perm = 0;   // the 07777 bits
  int64_t uid = 0;
  int64_t gid = 0;
  int64_t size = 0;
  struct timespec mtime {};
  struct timespec atime {};
  std::string symlink;                  // target as written
  std::optional<std::string> hardlink;  // clean path of the link target
  dev_t rdev = 0;
  std::vector<std::pair<std::string, std::string>> xattrs;
};

/// A regular file's content: blocks at offsets (holes are skipped).
class DataSource {
public:
  virtual ~DataSource() = default;
  /// The next block; false at the end of the entry.
  virtual Result<bool> next(const void** buf, size_t* len, int64_t* offset) = 0;
};

class Applier {
public:
  Applier(int root_fd, const UnpackOptions& opts) : root_(root_fd), opts_(opts) {}

  /// Applies one entry; errors do not name the entry (the caller does).
  Status apply(const TarEntry& e, DataSource& data);
  /// Sets directory modes and times, deferred so that read-only
  /// directories can be filled and their mtimes survive.
  Status finish();

private:
  struct DirMeta {
    std::string path;
    dev_t dev;
    ino_t ino;
    mode_t perm;
    struct timespec times[2];
  };

  Status whiteout(const std::string& dir, const std::string& name);
  Status opaque(const std::string& dir);
  Result<int> parent_fd(const std::string& dir);
  Status clear_slot(int pfd, const std::string& base, bool keep_dir, bool* kept_dir);
  Status make_file(const TarEntry& e, int pfd, const std::string& base, DataSource& data);
  Status make_dir(const TarEntry& e, int pfd, const std::string& base);
  Status make_hardlink(const TarEntry& e, int pfd, const std::string& base);
  Status make_node(const TarEntry& e, int pfd, const std::string& base);
  Status set_owner_fd(const TarEntry& e, int fd);
  Status set_owner_at(const TarEntry& e, int pfd, const std::string& base);
  Status set_xattrs(const TarEntry& e, int fd);
  Status defer_dir(const TarEntry& e, int fd);
  Result<std::pair<uid_t, gid_t>> host_ids(const TarEntry& e) const;
  void touch(const std::string& path);
  bool touched(const std::string& path) const { return touched_.count(path) != 0; }
  // Keeps the fd open: the current entry may still be using it.
  void forget_parent() { cached_parent_.clear(); }

  int root_;
  const UnpackOptions& opts_;
  // flatten: paths this layer wrote (and their parents); whiteouts and
  // opaque markers only remove what earlier layers left.
  std::unordered_set<std::string> touched_;
  std::vector<DirMeta> dirs_;
  std::unordered_map<std::string, size_t> dir_index_;
  // The last parent directory resolved; dropped whenever anything is
  // removed, since a removal can change what a path resolves to.
  std::string cached_parent_;
  UniqueFd cached_fd_;
};

}  // namespace berth::images
