// commit.cpp — commit_disk: a container disk's upper directory becomes a
// new layer on top of the image the disk was made from.
#include <linux/magic.h>

#include "berth/base/fd.h"
#include "berth/base/fs.h"
#include "berth/images/build.h"
#include "berth/images/disk.h"
#include "disk_internal.h"
#include "loop.h"

namespace berth::images {
namespace {

Result<Descriptor> commit_in(const Store& store, const std::string& dir, std::string_view tag) {
  DiskInfo d = BERTH_TRY(read_disk(dir));
  // An unmounted disk is mounted read-only just for the read.
  bool was_mounted = loop::is_mount_of(disk::mnt(dir), EXT4_SUPER_MAGIC);
  if (!was_mounted) BERTH_TRY(disk::mount_fs(dir, true));
  Defer unmount([&] {
    if (!was_mounted) (void)disk::umount_at(disk::mnt(dir));
  });
  std::string upper = fs::join(disk::mnt(dir), "upper");
  if (!fs::exists(upper)) return Error(ENOENT, "the disk has never been mounted: nothing to commit (" + upper + ")");
  WrittenLayer layer = BERTH_TRY(write_layer(store, LayerSource{upper, true, d.shift}));
  NewImage spec;
  spec.base = d.manifest;
  spec.created_by = "berth commit of " + d.image;
  return add_image(store, layer, spec, tag);
}

}  // namespace

Result<Descriptor> commit_disk(const Store& store, const std::string& dir, std::string_view tag) {
  auto r = commit_in(store, dir, tag);
  if (!r) return std::move(r).error().wrap("commit disk " + dir + " as " + std::string(tag));
  return r;
}

}  // namespace berth::images
