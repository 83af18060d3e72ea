// store.h — the node's image store: an OCI image layout on disk plus the
// unpacked layers shared by every container.
//
//   <root>/oci-layout              {"imageLayoutVersion":"1.0.0"}
//   <root>/index.json              tags: manifest descriptors annotated with
//                                  org.opencontainers.image.ref.name
//   <root>/blobs/sha256/<hex>      verified, read-only, deduplicated blobs
//   <root>/layers/sha256/<key>/    unpacked layers (key: diff_id hex, plus
//                                  "-<uid>-<gid>-<size>" when id-shifted)
//   <root>/holds/<holder>          a manifest digest kept alive for a holder
//   <root>/tmp/                    blobs and layers being written;
//                                  partial-<hex>: an interrupted download
//                                  kept for resume_blob (gc removes it)
//   <root>/store.lock, index.lock  flock(2) files
//
// Concurrency: writers (blob, layer, tag, hold) take store.lock shared and
// gc() takes it exclusive, so a collection never sees half a pull. A pull
// spanning several calls holds a Lease so that its blobs survive until it
// tags them. index.json changes are serialised by index.lock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "berth/images/descriptor.h"
#include "berth/images/digest.h"
#include "berth/images/unpack.h"

namespace berth::images {

/// A shared hold on the store that keeps gc() out while it lives.
class Lease {
public:
  Lease() = default;
  explicit Lease(UniqueFd fd) : fd_(std::move(fd)) {}
  bool held() const { return fd_.valid(); }

private:
  UniqueFd fd_;
};

/// Writes one blob: bytes are hashed as they arrive and the blob appears
/// under blobs/sha256 only after commit() has checked digest and size.
/// Destroying an uncommitted writer removes its temp file.
class BlobWriter {
public:
  BlobWriter() = default;
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) noexcept;
  ~BlobWriter();

  /// Appends bytes. More than the expected size is an error at once.
  Status write(const void* data, size_t size);
  Status write(std::string_view data) { return write(data.data(), data.size()); }
  /// fsyncs, verifies, then renames into place (or drops the temp file when
  /// another writer stored the same blob first).
  Status commit();
  uint64_t written() const { return written_; }
  /// Empties the temp file and starts over (a server ignored a Range).
  Status restart();
  /// When set, an uncommitted writer of Store::resume_blob leaves its temp
  /// file for a later resume_blob instead of removing it (an interrupted
  /// download). Content that failed verification is always removed.
  void keep_partial(bool keep) { keep_partial_ = keep && resumable_; }

private:
  friend class Store;
  void abort();

  std::string tmp_path_;
  std::string final_path_;
  std::string blobs_dir_;
  UniqueFd fd_;
  Lease lease_;
  Sha256 hash_;
  Digest expected_;
  std::optional<uint64_t> expected_size_;
  uint64_t written_ = 0;
  bool resumable_ = false;
  bool keep_partial_ = false;
};

struct GcStats {
  uint64_t blobs_removed = 0;
  uint64_t bytes_removed = 0;
  uint64_t layers_removed = 0;
  uint64_t temps_removed = 0;
};

class Store {
public:
  /// Opens the store at `root`, creating the layout when missing. An
  /// existing oci-layout must say version 1.x.
  static Result<Store> open(const std::string& root);

  const std::string& root() const { return root_; }

  /// Takes store.lock shared until the Lease is dropped.
  Result<Lease> lease() const;

  // ---- blobs ----------------------------------------------------------
  bool has_blob(const Digest& d) const;
  std::string blob_path(const Digest& d) const;
  /// Opens a blob read-only; a missing blob is ENOENT naming the digest.
  Result<UniqueFd> open_blob(const Digest& d) const;
  /// Reads a small blob (manifest, config) whole; larger than `limit` is an error.
  Result<std::string> read_blob(const Digest& d, size_t limit = 4u << 20) const;
  /// Starts writing a blob that must hash to `expected` (and have
  /// `size` bytes when given).
  Result<BlobWriter> begin_blob(const Digest& expected, std::optional<uint64_t> size) const;
  /// Like begin_blob, but continues tmp/partial-<hex> left by an earlier,
  /// interrupted writer: its bytes are hashed again and written() says how
  /// many there are, so a download can ask for the rest. The file is
  /// locked while the writer lives; when another writer holds it, this
  /// starts from zero in a temp file of its own.
  Result<BlobWriter> resume_blob(const Digest& expected, std::optional<uint64_t> size) const;
  /// Removes the bytes an interrupted resume_blob kept for `d` (after a
  /// full disk, when resuming is not worth the space). A partial file a
  /// writer holds right now is left alone.
  void drop_partial(const Digest& d) const;
  /// Copies `src_fd` to its end into a blob (begin_blob, write, commit).
  Status put_blob(int src_fd, const Digest& expected, std::optional<uint64_t> size) const;
  /// Stores a buffer; the digest is checked when given, else computed.
  Result<Digest> put_blob(std::string_view data, const std::optional<Digest>& expected = std::nullopt) const;

  // ---- tags (index.json) --------------------------------------------------
  /// Every descriptor in index.json.
  Result<std::vector<Descriptor>> list() const;
  /// The descriptor tagged `ref`; ENOENT-style error naming it when absent.
  Result<Descriptor> resolve(std::string_view ref) const;
  /// Points `ref` at `manifest` (whose blob must be present), replacing
  /// any earlier entry with that name.
  Status tag(std::string_view ref, Descriptor manifest) const;
  /// Removes the tag; missing is an error naming it.
  Status untag(std::string_view ref) const;

  // ---- holds ----------------------------------------------------------
  /// Keeps `manifest` (and all it refers to) alive for `holder` (a
  /// container id: [A-Za-z0-9_.-], not starting with '.').
  Status hold(std::string_view holder, const Digest& manifest) const;
  /// Drops a hold; missing is fine.
  Status release(std::string_view holder) const;

  // ---- unpacked layers ------------------------------------------------
  /// The directory name under layers/sha256 for a diff_id and shift.
  static std::string layer_key(const Digest& diff_id, const std::optional<IdShift>& shift);
  std::string layer_path(const Digest& diff_id, const std::optional<IdShift>& shift = std::nullopt) const;
  bool has_layer(const Digest& diff_id, const std::optional<IdShift>& shift = std::nullopt) const;
  /// Unpacks the layer blob `layer` (whose uncompressed stream must hash
  /// to `diff_id`) for overlayfs into layers/sha256/<key>, unless already
  /// there; returns the directory. The layer is unpacked in tmp/ and
  /// renamed into place only when complete and synced; on error nothing is
  /// left. `opts.mode` and `opts.expected_diff_id` are set by the store.
  Result<std::string> unpack_layer(const Descriptor& layer, const Digest& diff_id, UnpackOptions opts) const;

  // ---- garbage collection ---------------------------------------------
  /// Marks everything reachable from index.json and holds (manifests,
  /// indexes, configs, layers, unpacked layers) and deletes the rest, plus
  /// leftover temp files. Waits for running writers (and Leases) to
  /// finish, so the caller must not hold a Lease itself.
  Result<GcStats> gc() const;

private:
  explicit Store(std::string root) : root_(std::move(root)) {}
  Status init_layout() const;
  std::string path(std::string_view rel) const;

  std::string root_;
};

}  // namespace berth::images
