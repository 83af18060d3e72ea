// layer_writer.cpp — pack_tree and write_layer: libarchive reads the tree
// from disk (no symlink following, xattrs, hard links), writes pax tar;
// zlib compresses it while both digests are computed on the fly.
#include "layer_writer.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <zlib.h>

#include <memory>
#include <vector>

#include "berth/base/fd.h"
#include "berth/base/fs.h"

namespace berth::images {
namespace {

constexpr std::string_view kOverlayXattr = "trusted.overlay.";

// Where the tar stream goes: hashed raw (diff_id), gzip-compressed,
// hashed again (digest) and written to the fd.
struct Sink {
  int fd = -1;
  Sha256 raw, packed;
  z_stream z{};
  uint64_t raw_size = 0;
  uint64_t size = 0;
  int err = 0;  // errno of a failed write
  std::string error;

  bool put(const unsigned char* p, size_t n) {
    packed.update(p, n);
    size += n;
    while (n > 0) {
      ssize_t w = ::write(fd, p, n);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        err = errno;
        error = "write";
        return false;
      }
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }
  bool deflate_some(const void* data, size_t len, int flush) {
    z.next_in = static_cast<Bytef*>(const_cast<void*>(data));
    z.avail_in = static_cast<uInt>(len);
    unsigned char out[64 << 10];
    do {
      z.next_out = out;
      z.avail_out = sizeof out;
      int rc = ::deflate(&z, flush);
      if (rc == Z_STREAM_ERROR) {
        error = "gzip: stream error";
        return false;
      }
      if (!put(out, sizeof out - z.avail_out)) return false;
    } while (z.avail_out == 0);
    return true;
  }
};

la_ssize_t sink_write(archive* a, void* ctx, const void* buf, size_t len) {
  auto* s = static_cast<Sink*>(ctx);
  s->raw.update(buf, len);
  s->raw_size += len;
  if (s->deflate_some(buf, len, Z_NO_FLUSH)) return static_cast<la_ssize_t>(len);
  archive_set_error(a, s->err, "%s", s->error.c_str());  // for arc_error
  return -1;
}

struct Reader {
  archive* a = archive_read_disk_new();
  ~Reader() { archive_read_free(a); }
};
struct Writer {
  archive* a = archive_write_new();
  ~Writer() { archive_write_free(a); }
};
struct Resolver {
  archive_entry_linkresolver* r = archive_entry_linkresolver_new();
  ~Resolver() { archive_entry_linkresolver_free(r); }
};

Error arc_error(archive* a, const std::string& what) {
  const char* m = archive_error_string(a);
  return Error(archive_errno(a) > 0 ? archive_errno(a) : 0, what + ": " + (m ? m : "libarchive error"));
}

Status shift_owner(archive_entry* e, const std::optional<IdShift>& unshift, const std::string& rel) {
  if (!unshift) return ok();
  auto down = [&](int64_t id, uint32_t base, const char* kind) -> Result<int64_t> {
    if (id < base || id >= static_cast<int64_t>(base) + unshift->size)
      return Error::msg("entry " + rel + ": " + kind + " " + std::to_string(id) +
                        " is outside the container's range " + std::to_string(base) + "+" +
                        std::to_string(unshift->size));
    return id - base;
  };
  archive_entry_set_uid(e, BERTH_TRY(down(archive_entry_uid(e), unshift->uid, "uid")));
  archive_entry_set_gid(e, BERTH_TRY(down(archive_entry_gid(e), unshift->gid, "gid")));
  return ok();
}

// Drops overlayfs's own xattrs; says whether the directory was opaque.
bool strip_overlay_xattrs(archive_entry* e) {
  struct Kept {
    std::string name;
    std::string value;
  };
  std::vector<Kept> kept;
  bool opaque = false;
  const char* name;
  const void* value;
  size_t size;
  archive_entry_xattr_reset(e);
  while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
    std::string_view n(name);
    if (n.substr(0, kOverlayXattr.size()) == kOverlayXattr) {
      if (n == "trusted.overlay.opaque" && size >= 1 && static_cast<const char*>(value)[0] == 'y') opaque = true;
      continue;
    }
    kept.push_back({name, std::string(static_cast<const char*>(value), size)});
  }
  archive_entry_xattr_clear(e);
  for (const auto& k : kept) archive_entry_xattr_add_entry(e, k.name.c_str(), k.value.data(), k.value.size());
  return opaque;
}

Status write_marker(archive* w, const std::string& path, archive_entry* like) {
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> m(archive_entry_new(), archive_entry_free);
  archive_entry_set_pathname(m.get(), path.c_str());
  archive_entry_set_filetype(m.get(), AE_IFREG);
  archive_entry_set_perm(m.get(), 0644);
  archive_entry_set_size(m.get(), 0);
  archive_entry_set_mtime(m.get(), archive_entry_mtime(like), 0);
  if (archive_write_header(w, m.get()) != ARCHIVE_OK) return arc_error(w, "write " + path);
  return ok();
}

Status copy_data(archive* r, archive* w, const std::string& rel) {
  char buf[128 << 10];
  for (;;) {
    la_ssize_t n = archive_read_data(r, buf, sizeof buf);
    if (n < 0) return arc_error(r, "read " + rel);
    if (n == 0) return ok();
    if (archive_write_data(w, buf, static_cast<size_t>(n)) < 0) return arc_error(w, "write " + rel);
  }
}

Status pack(const LayerSource& src, archive* r, archive* w, archive_entry_linkresolver* lr, uint64_t* entries) {
  std::string root = src.dir;
  while (root.size() > 1 && root.back() == '/') root.pop_back();
  archive_read_disk_set_symlink_physical(r);
  archive_read_disk_set_behavior(r, ARCHIVE_READDISK_NO_ACL | ARCHIVE_READDISK_NO_FFLAGS |
                                        ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
  if (archive_read_disk_open(r, root.c_str()) != ARCHIVE_OK) return arc_error(r, "open " + root);
  for (;;) {
    archive_entry* e = archive_entry_new();
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> own(e, archive_entry_free);
    int rc = archive_read_next_header2(r, e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return arc_error(r, "read " + root);
    std::string path = archive_entry_pathname(e);
    archive_read_disk_descend(r);
    if (path == root) continue;  // the root itself is not an entry
    std::string rel = path.substr(root.size() + 1);
    archive_entry_set_pathname(e, rel.c_str());
    archive_entry_set_uname(e, nullptr);
    archive_entry_set_gname(e, nullptr);
    size_t slash = rel.rfind('/');
    std::string parent = slash == std::string::npos ? "" : rel.substr(0, slash + 1);
    std::string base = rel.substr(parent.size());
    // A deleted file. overlayfs makes the whiteout as the mounter (host
    // root, outside a shifted disk's range): its owner is not carried.
    if (src.overlay_upper && archive_entry_filetype(e) == AE_IFCHR && archive_entry_rdev(e) == 0) {
      BERTH_TRY(write_marker(w, parent + ".wh." + base, e));
      ++*entries;
      continue;
    }
    BERTH_TRY(shift_owner(e, src.unshift, rel));
    bool opaque = strip_overlay_xattrs(e);
    archive_entry* spare = nullptr;
    archive_entry_linkify(lr, &e, &spare);
    if (archive_write_header(w, e) != ARCHIVE_OK) return arc_error(w, "write " + rel);
    if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0) BERTH_TRY(copy_data(r, w, rel));
    ++*entries;
    if (src.overlay_upper && opaque && archive_entry_filetype(e) == AE_IFDIR) {
      BERTH_TRY(write_marker(w, rel + "/.wh..wh..opq", e));  // hides the lower layers' contents
      ++*entries;
    }
  }
  return ok();
}

Result<PackedTar> pack_in(const LayerSource* src, Sink& sink) {
  Reader r;
  Writer w;
  Resolver lr;
  archive_entry_linkresolver_set_strategy(lr.r, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
  archive_write_set_format_pax_restricted(w.a);
  archive_write_set_bytes_in_last_block(w.a, 1);
  if (archive_write_open(w.a, &sink, nullptr, sink_write, nullptr) != ARCHIVE_OK) return arc_error(w.a, "open tar writer");
  PackedTar out;
  if (src) BERTH_TRY(pack(*src, r.a, w.a, lr.r, &out.entries));
  if (archive_write_close(w.a) != ARCHIVE_OK) return arc_error(w.a, "finish tar");
  if (!sink.deflate_some(nullptr, 0, Z_FINISH)) return Error(sink.err, sink.error);
  out.tar_bytes = sink.raw_size;
  out.diff_id = sink.raw.finish();
  out.size = sink.size;
  out.digest = sink.packed.finish();
  return out;
}

Result<WrittenLayer> write_in(const Store& store, const LayerSource& src, const std::string& tmp) {
  UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::os("create " + tmp);
  PackedTar t = BERTH_TRY(pack_tree(&src, fd.get(), 6));
  if (::lseek(fd.get(), 0, SEEK_SET) < 0) return Error::os("seek " + tmp);
  BERTH_TRY(store.put_blob(fd.get(), t.digest, t.size));
  return WrittenLayer{Descriptor{std::string(media_type::oci_layer_gzip), t.digest, t.size}, t.diff_id, t.entries};
}

}  // namespace

Result<PackedTar> pack_tree(const LayerSource* src, int fd, int level) {
  Sink sink;
  sink.fd = fd;
  if (deflateInit2(&sink.z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return Error::msg("gzip: init");
  std::unique_ptr<z_stream, int (*)(z_stream*)> zguard(&sink.z, deflateEnd);
  return pack_in(src, sink);
}

Result<WrittenLayer> write_layer(const Store& store, const LayerSource& src) {
  Lease lease = BERTH_TRY(store.lease());
  std::string tmp = fs::join(store.root(), "tmp/layer-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(reinterpret_cast<uintptr_t>(&src)));
  Defer drop([&] { ::unlink(tmp.c_str()); });
  auto r = write_in(store, src, tmp);
  if (!r) return std::move(r).error().wrap("pack layer from " + src.dir);
  return r;
}

}  // namespace berth::images
