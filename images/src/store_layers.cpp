// store_layers.cpp — unpacked layers, shared read-only by every container
// that uses them. A layer is unpacked in tmp/ and renamed into
// layers/sha256 only once complete and synced.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/fs.h"
#include "berth/images/store.h"
#include "store_internal.h"
#include "tree.h"

namespace berth::images {

namespace sp = store_paths;

std::string Store::layer_key(const Digest& diff_id, const std::optional<IdShift>& shift) {
  std::string key = diff_id.hex();
  if (shift)
    key += "-" + std::to_string(shift->uid) + "-" + std::to_string(shift->gid) + "-" + std::to_string(shift->size);
  return key;
}

std::string Store::layer_path(const Digest& diff_id, const std::optional<IdShift>& shift) const {
  return fs::join(path(sp::layers), layer_key(diff_id, shift));
}

bool Store::has_layer(const Digest& diff_id, const std::optional<IdShift>& shift) const {
  return fs::exists(layer_path(diff_id, shift));
}

namespace {

// Unpacks `blob` into the fresh directory `dir`, then makes it durable.
Status fill_layer(int blob, const std::string& dir, const Descriptor& layer, const UnpackOptions& opts) {
  UniqueFd dfd = BERTH_TRY(open_dir(dir));
  // mkdtemp made it 0700; the layer's own "./" entry, if any, overrides.
  if (::fchmod(dfd.get(), 0755) < 0) return Error::os("chmod " + dir);
  BERTH_TRY(unpack_layer(blob, dfd.get(), opts, layer.digest.str()));
  if (::syncfs(dfd.get()) < 0) return Error::os("sync " + dir);
  return {};
}

}  // namespace

Result<std::string> Store::unpack_layer(const Descriptor& layer, const Digest& diff_id, UnpackOptions opts) const {
  std::string final_dir = layer_path(diff_id, opts.id_shift);
  std::string what = "unpack layer " + layer.digest.str();
  if (!is_layer_type(layer.media_type))
    return Error::msg(what + ": mediaType \"" + layer.media_type + "\" is not an image layer");
  Lease l = BERTH_TRY(lease());
  if (fs::exists(final_dir)) return final_dir;
  UniqueFd blob = BERTH_TRY_CTX(open_blob(layer.digest), what);
  struct stat st;
  if (::fstat(blob.get(), &st) < 0) return Error::os(what + ": stat blob");
  if (static_cast<uint64_t>(st.st_size) != layer.size)
    return Error::msg(what + ": blob has " + std::to_string(st.st_size) + " bytes, descriptor says " +
                      std::to_string(layer.size));

  std::string tmpl = fs::join(path(sp::tmp), "layer-" + diff_id.hex().substr(0, 16) + "-XXXXXX");
  if (!::mkdtemp(tmpl.data())) return Error::os(what + ": create temp directory in " + path(sp::tmp));
  // Nothing half-unpacked survives an error: the temp tree goes with it.
  Defer drop([&] { (void)remove_tree_at(AT_FDCWD, tmpl, tmpl); });
  opts.mode = LayerMode::overlay;
  opts.expected_diff_id = diff_id;
  BERTH_TRY(fill_layer(blob.get(), tmpl, layer, opts));
  if (::renameat2(AT_FDCWD, tmpl.c_str(), AT_FDCWD, final_dir.c_str(), RENAME_NOREPLACE) < 0) {
    // Another pull unpacked the same layer first; the temp copy is dropped.
    if (errno == EEXIST || errno == ENOTEMPTY) return final_dir;
    return Error::os(what + ": rename into " + final_dir);
  }
  drop.dismiss();
  BERTH_TRY(fsync_dir(path(sp::layers)));
  return final_dir;
}

}  // namespace berth::images
