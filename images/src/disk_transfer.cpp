// disk_transfer.cpp — export_disk_changes and import_disk_changes: a
// container disk's overlay upper as a gzip'd tar stream from one disk
// into another (cold migration of a container between nodes). The stream
// is the layer commit_disk would write; the unpacker applies it.
#include <fcntl.h>
#include <linux/magic.h>

#include <optional>

#include "berth/base/fd.h"
#include "berth/base/fs.h"
#include "berth/images/disk.h"
#include "disk_internal.h"
#include "layer_writer.h"
#include "loop.h"
#include "tree.h"

namespace berth::images {
namespace {

// zlib's fastest level: on a LAN, packing speed matters more than size.
constexpr int kStreamGzipLevel = 1;

Result<DiskTransferStats> export_in(const std::string& dir, int fd) {
  DiskInfo d = BERTH_TRY(read_disk(dir));
  disk::FsMount fs_mount = BERTH_TRY(disk::FsMount::open(dir, true));
  std::optional<LayerSource> src;
  if (fs::exists(disk::upper(dir))) src = LayerSource{disk::upper(dir), true, d.shift};
  PackedTar t = BERTH_TRY(pack_tree(src ? &*src : nullptr, fd, kStreamGzipLevel));
  BERTH_TRY(fs_mount.close());
  return DiskTransferStats{t.entries, t.tar_bytes, t.diff_id};
}

// The unpacker's rule "an entry of this layer wins over its whiteout"
// only holds for a fresh upper directory.
Status check_no_changes(int upper_fd, const std::string& upper) {
  auto names = BERTH_TRY(list_dir_fd(upper_fd, upper));
  if (!names.empty())
    return Error(ENOTEMPTY, "the disk already has changes (" + upper + " holds " + names.front() +
                                "; import into a fresh disk)");
  return ok();
}

Result<DiskTransferStats> import_in(const std::string& dir, int fd) {
  DiskInfo d = BERTH_TRY(read_disk(dir));
  if (disk_mounted(dir) || loop::is_mount_of(disk::mnt(dir), EXT4_SUPER_MAGIC))
    return Error(EBUSY, "the disk is mounted (stop the container and unmount the disk first)");
  disk::FsMount fs_mount = BERTH_TRY(disk::FsMount::open(dir, false));
  BERTH_TRY(disk::make_upper(dir, d));
  UniqueFd upper(::open(disk::upper(dir).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!upper.valid()) return Error::os("open " + disk::upper(dir));
  BERTH_TRY(check_no_changes(upper.get(), disk::upper(dir)));
  UnpackOptions opts;
  opts.mode = LayerMode::overlay;
  opts.id_shift = d.shift;
  opts.max_bytes = d.size_bytes;
  UnpackStats s = BERTH_TRY(unpack_layer(fd, upper.get(), opts, "stream"));
  upper.reset();
  BERTH_TRY(fs_mount.close());
  return DiskTransferStats{s.entries, s.bytes, s.diff_id};
}

}  // namespace

Result<DiskTransferStats> export_disk_changes(const std::string& dir, int fd) {
  auto r = export_in(dir, fd);
  if (!r) return std::move(r).error().wrap("export " + dir);
  return r;
}

Result<DiskTransferStats> import_disk_changes(const std::string& dir, int fd) {
  auto r = import_in(dir, fd);
  if (!r) return std::move(r).error().wrap("import into " + dir);
  return r;
}

}  // namespace berth::images
