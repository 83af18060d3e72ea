// fs.h — file helpers: whole-file reads, atomic writes, directories.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/fd.h"

namespace berth::fs {

/// Reads a whole file (at most `limit` bytes; larger is an error: EFBIG).
Result<std::string> read_file(const std::string& path, size_t limit = 64u << 20);
/// Reads an open fd to its end (stdin, pipes).
Result<std::string> read_fd(int fd, const std::string& name, size_t limit = 64u << 20);
/// Reads a whole file relative to a directory fd.
Result<std::string> read_file_at(int dirfd, const std::string& path, size_t limit = 64u << 20);

/// Writes `data` to `path` so that a crash leaves the old content or the
/// new, never a torn file: temp file in the same directory, fsync, rename,
/// fsync of the directory.
Status write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644);

/// Writes a small value to an existing file (cgroupfs, procfs, sysfs).
Status write_file(const std::string& path, std::string_view data);

/// mkdir -p; existing directories are fine.
Status mkdir_p(const std::string& path, mode_t mode = 0755);

/// Removes a directory tree (no symlinks followed); missing is fine.
Status remove_tree(const std::string& path);

/// Lists a directory's entries, without "." and "..".
Result<std::vector<std::string>> list_dir(const std::string& path);

bool exists(const std::string& path);

/// Joins path components with exactly one '/' between them.
std::string join(std::string_view a, std::string_view b);

/// Makes `path` absolute against the current directory and removes "." and
/// duplicate slashes (".." is kept: callers resolve it safely).
std::string absolute(const std::string& path);

}  // namespace berth::fs
