// image.cpp — reading tagged images back and flattening them into a
// root filesystem.
#include "berth/images/image.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/fs.h"
#include "berth/images/reference.h"
#include "tree.h"

namespace berth::images {

Result<std::string> find_tag(const Store& store, std::string_view name) {
  std::vector<Descriptor> all = BERTH_TRY(store.list());
  auto tagged = [&](const std::string& t) {
    for (const auto& d : all)
      if (const std::string* n = d.annotation(ref_name_annotation); n && *n == t) return true;
    return false;
  };
  if (tagged(std::string(name))) return std::string(name);
  if (auto ref = parse_reference(name); ref && tagged(ref->str())) return ref->str();
  return Error(ENOENT, "image " + std::string(name) + ": no such tag in the store");
}

Result<Image> load_image(const Store& store, std::string_view name, const Platform& platform) {
  Image img;
  img.tag = BERTH_TRY(find_tag(store, name));
  auto load = [&]() -> Status {
    Descriptor d = BERTH_TRY(store.resolve(img.tag));
    if (is_index_type(d.media_type)) {
      Index ix = BERTH_TRY_CTX(parse_index(BERTH_TRY(store.read_blob(d.digest)), d.media_type), d.digest.str());
      d = BERTH_TRY(select_platform(ix, platform));
    }
    std::string body = BERTH_TRY(store.read_blob(d.digest));
    img.manifest = BERTH_TRY_CTX(parse_manifest(body, d.media_type), d.digest.str());
    BERTH_TRY(check_image_manifest(img.manifest));
    std::string ctext = BERTH_TRY(store.read_blob(img.manifest.config.digest, 16u << 20));
    img.config = BERTH_TRY_CTX(parse_config(ctext), img.manifest.config.digest.str());
    BERTH_TRY(check_config(img.manifest, img.config));
    img.descriptor = std::move(d);
    return {};
  };
  auto st = load();
  if (!st) return std::move(st).error().wrap("image " + img.tag);
  return img;
}

Status unpack_rootfs(const Store& store, const Image& image, const std::string& dir, UnpackOptions opts) {
  std::string what = "unpack " + image.tag + " into " + dir;
  bool created = false;
  if (::mkdir(dir.c_str(), 0755) == 0) {
    created = true;
  } else if (errno != EEXIST) {
    return Error::os(what + ": mkdir");
  } else if (!BERTH_TRY_CTX(fs::list_dir(dir), what).empty()) {
    return Error(ENOTEMPTY, what + ": directory is not empty");
  }
  // A root filesystem missing some layers must not look usable.
  Defer drop([&] {
    if (created) (void)remove_tree_at(AT_FDCWD, dir, dir);
  });
  UniqueFd dfd = BERTH_TRY_CTX(open_dir(dir), what);
  Lease lease = BERTH_TRY(store.lease());
  opts.mode = LayerMode::flatten;
  for (size_t i = 0; i < image.manifest.layers.size(); ++i) {
    const Descriptor& l = image.manifest.layers[i];
    opts.expected_diff_id = image.config.diff_ids[i];
    UniqueFd blob = BERTH_TRY_CTX(store.open_blob(l.digest), what);
    BERTH_TRY_CTX(unpack_layer(blob.get(), dfd.get(), opts, l.digest.str()), what);
  }
  if (::syncfs(dfd.get()) < 0) return Error::os(what + ": sync");
  drop.dismiss();
  return {};
}

}  // namespace berth::images
