// tree.h — fd-relative file tree helpers for the unpacker and the store:
// resolution inside a root (openat2 RESOLVE_IN_ROOT), tree removal, locks.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/fd.h"

namespace berth::images {

/// openat2(root_fd, rel, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS |
/// extra_resolve). `rel` is a clean relative path ("." for the root).
Result<UniqueFd> open_in_root(int root_fd, const std::string& rel, int flags, uint64_t extra_resolve = 0,
                              mode_t mode = 0);

/// Resolves directory `rel` inside the root to an O_PATH fd, creating
/// missing components (mode `mode`) when `create` is set. Every step is
/// resolved inside the root; a component that exists but is not a
/// directory (or a dangling symlink) is ENOTDIR.
Result<UniqueFd> resolve_dir(int root_fd, const std::string& rel, bool create, mode_t mode = 0755);

/// Removes `name` in `dirfd` and everything below it without following
/// symlinks and with a constant number of open fds; directories are made
/// writable first so an unprivileged caller can empty read-only ones.
/// Missing is fine. `shown` names the tree in errors.
Status remove_tree_at(int dirfd, const std::string& name, const std::string& shown);

/// The names in an open directory, without "." and "..".
Result<std::vector<std::string>> list_dir_fd(int dirfd, const std::string& shown);

/// Opens (creating) `path` and takes flock(LOCK_SH or LOCK_EX), waiting.
Result<UniqueFd> lock_file(const std::string& path, bool exclusive);

/// Opens a directory O_RDONLY | O_DIRECTORY.
Result<UniqueFd> open_dir(const std::string& path);

/// fsyncs a directory by path (after a rename into it).
Status fsync_dir(const std::string& path);

}  // namespace berth::images
