// image.h — a tagged image read back from the store (manifest and
// config), and its layers applied into one root filesystem directory.
#pragma once

#include <string>
#include <string_view>

#include "berth/images/manifest.h"
#include "berth/images/store.h"
#include "berth/images/unpack.h"

namespace berth::images {

struct Image {
  std::string tag;
  Descriptor descriptor;  // the manifest's descriptor
  Manifest manifest;
  ImageConfig config;
};

/// The store tag a user means by `name`: `name` itself when tagged, else
/// its canonical reference form ("busybox" -> "docker.io/library/busybox:latest").
/// ENOENT naming `name` when neither is tagged.
Result<std::string> find_tag(const Store& store, std::string_view name);

/// Reads the image tagged `tag` (see find_tag): its manifest (the one for
/// `platform` when the tag names an index) and config, checked against
/// each other.
Result<Image> load_image(const Store& store, std::string_view tag, const Platform& platform = host_platform());

/// Applies the image's layers in order, whiteouts included, into `dir`
/// (a root filesystem for a bundle). `dir` must be missing or empty; on
/// error it is removed again. `opts.mode` and the diff_ids are set here.
Status unpack_rootfs(const Store& store, const Image& image, const std::string& dir, UnpackOptions opts);

}  // namespace berth::images
