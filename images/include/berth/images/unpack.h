// unpack.h — applies one layer tarball (plain, gzip or zstd) to a
// directory without ever writing outside it.
//
// Every path is resolved relative to the target's directory fd with
// openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): a symlink in a parent
// resolves inside the target, and the last component of an entry is never
// followed (an existing entry there is replaced). Entries with a ".."
// component or an absolute path, hardlinks whose target would leave the
// tree, and layers beyond the size or entry limits are refused with an
// error naming the entry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/images/digest.h"

namespace berth::images {

/// How whiteouts (".wh.<name>") and opaque markers (".wh..wh..opq") are
/// applied.
enum class LayerMode {
  /// A per-layer directory for overlayfs: a whiteout becomes a 0/0 char
  /// device, an opaque directory gets the "<prefix>opaque" = "y" xattr.
  overlay,
  /// One tree holding all layers so far: whiteouts and opaque markers
  /// delete what earlier layers put there.
  flatten,
};

/// Adds an offset to every owner, for user-namespaced containers whose
/// ids [0, size) map to host ids [uid, uid + size) and [gid, gid + size).
struct IdShift {
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t size = 65536;
};

struct UnpackOptions {
  LayerMode mode = LayerMode::overlay;
  /// Overlay xattr namespace: "trusted.overlay." for a privileged mount,
  /// "user.overlay." for a rootless one (mounted with userxattr).
  std::string overlay_xattr_prefix = "trusted.overlay.";
  /// Set owners from the tarball (needs CAP_CHOWN for foreign ids).
  bool set_owner = true;
  std::optional<IdShift> id_shift;
  /// Create char and block devices; when false they are skipped (an
  /// unprivileged unpack cannot make them). Fifos are always made.
  bool create_devices = true;
  /// Ignore failures to set extended attributes (a file system without
  /// xattr support, or an unprivileged trusted.* name).
  bool ignore_xattr_errors = false;
  /// Limit on the uncompressed tar stream, headers included.
  uint64_t max_bytes = 64ull << 30;
  /// Limit on the number of entries (an inode bomb).
  uint64_t max_entries = 4u << 20;
  /// When set, the SHA-256 of the uncompressed stream must equal it.
  std::optional<Digest> expected_diff_id;
};

struct UnpackStats {
  uint64_t entries = 0;
  uint64_t bytes = 0;  // uncompressed tar stream
  Digest diff_id;      // SHA-256 of the uncompressed stream
};

/// Applies the layer read from `src_fd` (compression auto-detected) to the
/// directory `target_dirfd`. `name` (a digest or file name) starts every
/// error: "layer sha256:ab12...: entry etc/x: ...". On error the target
/// may hold part of the layer: callers unpack into a temp directory and
/// discard it (Store::unpack_layer does).
Result<UnpackStats> unpack_layer(int src_fd, int target_dirfd, const UnpackOptions& opts,
                                 std::string_view name);

/// Normalises a tar entry path: drops "./" and empty components. An
/// absolute path or a ".." component is an error. The root is ".".
Result<std::string> clean_entry_path(std::string_view raw);

}  // namespace berth::images
