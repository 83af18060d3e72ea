// layer_writer.h — the packing half of write_layer, shared with disk
// export: a tree (or an overlayfs upper directory) as a gzip-compressed
// pax tar written to any fd.
#pragma once

#include <cstdint>

#include "berth/base/error.h"
#include "berth/images/build.h"
#include "berth/images/digest.h"

namespace berth::images {

struct PackedTar {
  uint64_t entries = 0;
  uint64_t tar_bytes = 0;  // the uncompressed tar stream
  Digest diff_id;          // SHA-256 of the uncompressed tar
  uint64_t size = 0;       // the gzip stream
  Digest digest;           // SHA-256 of the gzip stream
};

/// Packs `src` (see LayerSource), or nothing when it is null (an empty,
/// valid archive), to `fd` at gzip `level` (1-9). Only sequential writes:
/// `fd` may be a pipe or a socket.
Result<PackedTar> pack_tree(const LayerSource* src, int fd, int level);

}  // namespace berth::images
