// build.h — makes images: packs a directory tree into a new layer (a
// plain tree, or an overlayfs upper directory whose whiteouts become OCI
// whiteouts) and stores an image made of a base image plus that layer.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/images/descriptor.h"
#include "berth/images/digest.h"
#include "berth/images/store.h"
#include "berth/images/unpack.h"

namespace berth::images {

struct LayerSource {
  std::string dir;              // the tree to pack; its root is the layer's root
  bool overlay_upper = false;   // translate overlayfs whiteouts and opaque dirs
  /// Owners inside [uid, uid+size) are shifted back down by uid (a
  /// user-namespaced container's disk); owners outside it are an error.
  std::optional<IdShift> unshift;
};

struct WrittenLayer {
  Descriptor descriptor;  // gzip-compressed layer blob, now in the store
  Digest diff_id;         // SHA-256 of the uncompressed tar
  uint64_t entries = 0;
};

/// Packs `src` as a pax tar, gzip-compressed, straight into the store.
Result<WrittenLayer> write_layer(const Store& store, const LayerSource& src);

struct NewImage {
  /// The manifest to build on: its layers come first and its config is
  /// kept (rootfs and history extended). Without one, the config below
  /// is the whole config.
  std::optional<Digest> base;
  std::vector<std::string> entrypoint;
  std::vector<std::string> cmd;
  std::vector<std::string> env;
  std::string working_dir;
  std::string stop_signal;
  std::map<std::string, std::string> labels;  // added to the config's labels
  std::string created_by;                     // the history entry
};

/// Stores config and manifest for `base` + `layer` and tags them `tag`.
Result<Descriptor> add_image(const Store& store, const WrittenLayer& layer, const NewImage& spec, std::string_view tag);

}  // namespace berth::images
