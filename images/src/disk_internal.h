// disk_internal.h — the pieces of disk.cpp that snapshots, commit and
// export/import share.
#pragma once

#include <string>

#include "berth/base/error.h"
#include "berth/images/disk.h"

namespace berth::images::disk {

std::string img(const std::string& dir);
std::string mnt(const std::string& dir);
std::string rootfs(const std::string& dir);
std::string upper(const std::string& dir);  // on the mounted file system
std::string work(const std::string& dir);
Status check_size(uint64_t size);
Status write_info(const std::string& dir, const DiskInfo& d);
/// Mounts disk.img at DIR/mnt unless it is mounted already.
Status mount_fs(const std::string& dir, bool read_only);
/// Waits (10 s at most) until disk.img is on no loop device: its file
/// system, unmounted here, may live on in another mount namespace for a
/// moment. For work on the file itself (offline resize, snapshot copy).
Status wait_detached(const std::string& dir);
/// umount2 that ignores "not mounted".
Status umount_at(const std::string& path);
/// Makes upper/ and work/ on the mounted file system unless they exist,
/// owned by the shifted root on a shifted disk.
Status make_upper(const std::string& dir, const DiskInfo& d);

/// disk.img mounted at DIR/mnt for one operation: mounted unless it is
/// already, and unmounted again at the end only when this mounted it.
class FsMount {
public:
  static Result<FsMount> open(const std::string& dir, bool read_only);
  FsMount(FsMount&& o) noexcept : mnt_(std::move(o.mnt_)) { o.mnt_.clear(); }
  FsMount& operator=(FsMount&&) = delete;
  ~FsMount() { (void)close(); }
  /// Unmounts now (when this mounted it), reporting a failure.
  Status close();

private:
  explicit FsMount(std::string mnt) : mnt_(std::move(mnt)) {}
  std::string mnt_;  // empty: nothing to undo
};
std::string holder_for(const std::string& dir);

}  // namespace berth::images::disk
