// disk.h — a container's disk: an overlayfs root over the image's shared,
// read-only unpacked layers, whose upper and work directories live in a
// sparse ext4 image attached through a loop device. The quota is the file
// system's size, so `df` inside the container shows it and writing past it
// fails with ENOSPC there while the host is unharmed (as Virtuozzo's ploop).
//
// On disk, under the disk directory DIR:
//   DIR/disk.json              what the disk is made of (image, layers, size, id shift)
//   DIR/disk.img               the sparse ext4 image; upper/ and work/ inside
//   DIR/mnt/                   disk.img's mount point while mounted
//   DIR/rootfs/                the overlay mount: the container's root file system
//   DIR/snapshots/NAME.img     snapshot copies of disk.img (+ NAME.json)
// A formatted, empty image per size and owner is cached once under
// <store>/disk-cache/ and copied sparsely, so provisioning costs a copy of
// a few MiB of metadata instead of a mkfs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/images/digest.h"
#include "berth/images/manifest.h"
#include "berth/images/store.h"
#include "berth/images/unpack.h"

namespace berth::images {

struct DiskOptions {
  uint64_t size_bytes = 10ull << 30;
  /// For a user-namespaced container: layers are unpacked shifted and the
  /// disk's root belongs to the shifted root.
  std::optional<IdShift> shift;
  Platform platform = host_platform();
};

struct DiskInfo {
  std::string store;       // the image store the layers live in
  std::string image;       // the tag the disk was made from
  Digest manifest;         // that tag's manifest then
  std::vector<Digest> diff_ids;  // bottom layer first
  uint64_t size_bytes = 0;
  std::optional<IdShift> shift;
  std::string holder;      // the store hold that keeps the image alive
};

struct SnapshotInfo {
  std::string name;
  int64_t created = 0;  // unix seconds
  uint64_t size_bytes = 0;
};

/// The smallest and largest disk sizes accepted.
constexpr uint64_t kMinDiskSize = 16ull << 20;
constexpr uint64_t kMaxDiskSize = 16ull << 40;

/// Parses "10G", "512M", "1T", "1048576" (bytes); errors name `field`.
Result<uint64_t> parse_size(std::string_view text, std::string_view field);

/// Makes a disk in `dir` (which must not exist) for `image`: unpacks its
/// layers into the store when needed, holds the image, and creates the
/// sparse ext4 image. On error nothing is left.
Result<DiskInfo> create_disk(const Store& store, std::string_view image, const std::string& dir, const DiskOptions& opts);

/// Reads DIR/disk.json.
Result<DiskInfo> read_disk(const std::string& dir);

/// Mounts the disk (loop + ext4 + overlay) and returns DIR/rootfs. A disk
/// already mounted is returned as is. On error nothing stays mounted.
Result<std::string> mount_disk(const std::string& dir);

/// Unmounts the overlay and the ext4; the loop device detaches itself.
/// A disk that is not mounted is fine. EBUSY while something uses it.
Status unmount_disk(const std::string& dir);

/// True when DIR/rootfs is mounted.
bool disk_mounted(const std::string& dir);

/// Changes the quota. Growing works mounted (the container keeps
/// running); shrinking needs the disk unmounted and fails, leaving the
/// disk as it was, when the data does not fit.
Status resize_disk(const std::string& dir, uint64_t size_bytes);

/// Copies the disk's current contents to snapshots/NAME. A mounted disk's
/// file system is frozen for the copy, so the snapshot is consistent.
Status snapshot_disk(const std::string& dir, std::string_view name);

/// Replaces the disk's contents with snapshot NAME (kept). The disk must
/// be unmounted (the container stopped).
Status rollback_disk(const std::string& dir, std::string_view name);

Result<std::vector<SnapshotInfo>> list_snapshots(const std::string& dir);
Status delete_snapshot(const std::string& dir, std::string_view name);

/// Unmounts, drops the store hold and removes `dir`. A missing dir is fine.
Status destroy_disk(const std::string& dir);

struct DiskTransferStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // the uncompressed tar stream
  Digest diff_id;      // SHA-256 of that stream
};

/// Writes the disk's changes (its overlay upper, as commit_disk packs
/// them: OCI whiteouts, a shifted disk's owners shifted back) to `fd` as a
/// gzip'd tar, at a fast gzip level (the stream crosses a LAN); only
/// sequential writes, so `fd` may be a pipe or a socket. An unmounted disk
/// is mounted read-only for the read; a mounted one must belong to a
/// stopped or frozen container for a consistent stream. A disk never
/// mounted has no changes: an empty (valid) archive. Errors start with
/// "export DIR: ".
Result<DiskTransferStats> export_disk_changes(const std::string& dir, int fd);

/// Applies such a stream, read sequentially from `fd` to its end (a
/// socket's peer shuts down its side), to disk `dir` (made by create_disk
/// from the same image, with no changes yet, not mounted): into its upper
/// directory, as overlayfs whiteouts and opaque xattrs, owners shifted
/// into this disk's id shift, every entry confined to the upper directory
/// as in any layer (unpack.h), the uncompressed stream bounded by the
/// disk's size. The disk is left unmounted. On error the disk may hold
/// part of the stream: the caller destroys it. Errors start with
/// "import into DIR: ".
Result<DiskTransferStats> import_disk_changes(const std::string& dir, int fd);

/// Turns the disk's changes (the overlay upper: whiteouts and opaque
/// directories become OCI whiteouts, a shifted disk is shifted back) into
/// a new layer on top of the disk's image and tags the result `tag`.
/// Commit a stopped or frozen container for a consistent layer.
Result<Descriptor> commit_disk(const Store& store, const std::string& dir, std::string_view tag);

}  // namespace berth::images
