// disk_internal.h — the pieces of disk.cpp that snapshots and commit share.
#pragma once

#include <string>

#include "berth/base/error.h"
#include "berth/images/disk.h"

namespace berth::images::disk {

std::string img(const std::string& dir);
std::string mnt(const std::string& dir);
std::string rootfs(const std::string& dir);
Status check_size(uint64_t size);
Status write_info(const std::string& dir, const DiskInfo& d);
/// Mounts disk.img at DIR/mnt unless it is mounted already.
Status mount_fs(const std::string& dir, bool read_only);
/// umount2 that ignores "not mounted".
Status umount_at(const std::string& path);
std::string holder_for(const std::string& dir);

}  // namespace berth::images::disk
