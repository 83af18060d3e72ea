// commit.cpp — commit_disk: a container disk's upper directory becomes a
// new layer on top of the image the disk was made from.
#include "berth/base/fs.h"
#include "berth/images/build.h"
#include "berth/images/disk.h"
#include "disk_internal.h"

namespace berth::images {
namespace {

Result<Descriptor> commit_in(const Store& store, const std::string& dir, std::string_view tag) {
  DiskInfo d = BERTH_TRY(read_disk(dir));
  // An unmounted disk is mounted read-only just for the read.
  disk::FsMount fs_mount = BERTH_TRY(disk::FsMount::open(dir, true));
  std::string upper = disk::upper(dir);
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
