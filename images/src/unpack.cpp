// unpack.cpp — reads a layer with libarchive and hands each entry to the
// Applier. Two archive readers are chained: the outer one only
// decompresses (gzip, zstd or none, detected by content) into a raw
// stream that is hashed (the diff_id) and measured against the size limit;
// the inner one parses that stream as tar.
#include "berth/images/unpack.h"

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>
#include <vector>

#include "apply.h"

namespace berth::images {

Result<std::string> clean_entry_path(std::string_view raw) {
  if (raw.empty()) return Error::msg("empty path");
  if (raw.front() == '/') return Error::msg("absolute path");
  std::string out;
  size_t i = 0;
  while (i <= raw.size()) {
    size_t j = raw.find('/', i);
    if (j == std::string_view::npos) j = raw.size();
    std::string_view part = raw.substr(i, j - i);
    i = j + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") return Error::msg("path has a \"..\" component");
    if (!out.empty()) out += '/';
    out.append(part);
  }
  return out.empty() ? std::string(".") : out;
}

namespace {

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

std::string archive_message(archive* a, const char* fallback) {
  const char* s = archive_error_string(a);
  return s ? s : fallback;
}

// The decompressed stream between the two readers.
struct Stream {
  archive* outer = nullptr;
  Sha256 hash;
  uint64_t bytes = 0;
  uint64_t limit = 0;
  bool over_limit = false;
  std::string error;  // from the outer reader (decompression)
  std::vector<char> buf = std::vector<char>(256 * 1024);

  // Reads the next decompressed chunk; 0 at the end, -1 on error.
  la_ssize_t pull() {
    la_ssize_t n = archive_read_data(outer, buf.data(), buf.size());
    if (n < 0) {
      error = archive_message(outer, "decompression failed");
      return -1;
    }
    bytes += static_cast<uint64_t>(n);
    if (bytes > limit) {
      over_limit = true;
      return -1;
    }
    hash.update(buf.data(), static_cast<size_t>(n));
    return n;
  }
};

la_ssize_t inner_read(archive* inner, void* ud, const void** out) {
  auto* s = static_cast<Stream*>(ud);
  la_ssize_t n = s->pull();
  if (n < 0) {
    archive_set_error(inner, EIO, "%s", s->over_limit ? "size limit" : s->error.c_str());
    return -1;
  }
  *out = s->buf.data();
  return n;
}

class ArchiveData : public DataSource {
public:
  explicit ArchiveData(archive* a) : a_(a) {}
  Result<bool> next(const void** buf, size_t* len, int64_t* offset) override {
    la_int64_t off = 0;
    int r = archive_read_data_block(a_, buf, len, &off);
    if (r == ARCHIVE_EOF) return false;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return Error::msg("read data: " + archive_message(a_, "error"));
    *offset = off;
    return true;
  }

private:
  archive* a_;
};

// Paths: the UTF-8 form (right for pax headers), else the raw bytes.
std::string entry_string(const char* utf8, const char* raw) {
  if (utf8) return utf8;
  return raw ? raw : "";
}

Result<TarEntry> decode(archive_entry* ae) {
  TarEntry e;
  e.raw = entry_string(archive_entry_pathname_utf8(ae), archive_entry_pathname(ae));
  e.path = BERTH_TRY(clean_entry_path(e.raw));
  e.type = archive_entry_filetype(ae);
  e.perm = archive_entry_perm(ae) & 07777;
  e.uid = archive_entry_uid(ae);
  e.gid = archive_entry_gid(ae);
  e.size = archive_entry_size(ae);
  e.mtime = {archive_entry_mtime(ae), archive_entry_mtime_nsec(ae)};
  e.atime = archive_entry_atime_is_set(ae) ? timespec{archive_entry_atime(ae), archive_entry_atime_nsec(ae)} : e.mtime;
  if (const char* h = archive_entry_hardlink(ae)) {
    std::string raw = entry_string(archive_entry_hardlink_utf8(ae), h);
    auto clean = clean_entry_path(raw);
    if (!clean) return std::move(clean).error().wrap("hardlink target " + raw);
    e.hardlink = std::move(*clean);
  }
  if (e.type == S_IFLNK) e.symlink = entry_string(archive_entry_symlink_utf8(ae), archive_entry_symlink(ae));
  if (e.type == S_IFCHR || e.type == S_IFBLK) e.rdev = archive_entry_rdev(ae);
  archive_entry_xattr_reset(ae);
  const char* name;
  const void* value;
  size_t size;
  while (archive_entry_xattr_next(ae, &name, &value, &size) == ARCHIVE_OK)
    e.xattrs.emplace_back(name, std::string(static_cast<const char*>(value), size));
  return e;
}

Result<ArchivePtr> open_outer(int src_fd) {
  ArchivePtr a(archive_read_new());
  if (!a) return Error(ENOMEM, "archive_read_new");
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_format_raw(a.get());
  archive_entry* ae;
  if (archive_read_open_fd(a.get(), src_fd, 256 * 1024) != ARCHIVE_OK ||
      archive_read_next_header(a.get(), &ae) != ARCHIVE_OK)
    return Error::msg("read: " + archive_message(a.get(), "empty stream"));
  return a;
}

// One layer being read: the two chained readers and the running totals.
class LayerReader {
public:
  explicit LayerReader(const UnpackOptions& opts) : opts_(opts) { stream_.limit = opts.max_bytes; }

  Status open(int src_fd) {
    outer_ = BERTH_TRY(open_outer(src_fd));
    stream_.outer = outer_.get();
    inner_.reset(archive_read_new());
    if (!inner_) return Error(ENOMEM, "archive_read_new");
    archive_read_support_format_tar(inner_.get());
    if (archive_read_open2(inner_.get(), &stream_, nullptr, inner_read, nullptr, nullptr) != ARCHIVE_OK)
      return stream_error("read", "not a tar archive");
    return {};
  }

  Result<UnpackStats> apply_all(int target_dirfd) {
    Applier applier(target_dirfd, opts_);
    ArchiveData data(inner_.get());
    UnpackStats stats;
    std::string last = "(start of layer)";
    for (;;) {
      archive_entry* ae;
      int r = archive_read_next_header(inner_.get(), &ae);
      if (r == ARCHIVE_EOF) break;
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return stream_error("after entry " + last, "corrupt tar");
      std::string name = entry_string(archive_entry_pathname_utf8(ae), archive_entry_pathname(ae));
      auto st = apply_entry(ae, applier, data, ++stats.entries);
      if (!st) return std::move(st).error().wrap("entry " + name);
      last = name;
    }
    BERTH_TRY(applier.finish());
    // The tar end marker may be followed by padding: the diff_id covers it.
    for (la_ssize_t n; (n = stream_.pull()) != 0;)
      if (n < 0) return stream_error("after the end of the tar stream", "read error");
    stats.bytes = stream_.bytes;
    stats.diff_id = stream_.hash.finish();
    if (opts_.expected_diff_id && !(stats.diff_id == *opts_.expected_diff_id))
      return Error::msg("uncompressed content has digest " + stats.diff_id.str() + ", expected diff_id " +
                        opts_.expected_diff_id->str());
    return stats;
  }

private:
  Status apply_entry(archive_entry* ae, Applier& applier, DataSource& data, uint64_t count) {
    TarEntry e = BERTH_TRY(decode(ae));
    if (count > opts_.max_entries)
      return Error::msg("layer has more than " + std::to_string(opts_.max_entries) + " entries");
    // Checked before any byte is written; the running total is checked as
    // the stream is read.
    if (e.size < 0 || static_cast<uint64_t>(e.size) > opts_.max_bytes)
      return Error::msg("size " + std::to_string(e.size) + " exceeds the layer limit of " +
                        std::to_string(opts_.max_bytes) + " bytes");
    auto st = applier.apply(e, data);
    // A failed read shows up as a write error: report its cause instead.
    if (!st && (stream_.over_limit || !stream_.error.empty())) return stream_error("", "");
    return st;
  }

  // The reason the stream stopped, prefixed with `where` when given.
  Error stream_error(const std::string& where, const char* fallback) const {
    std::string msg;
    if (stream_.over_limit)
      msg = "layer exceeds the limit of " + std::to_string(opts_.max_bytes) + " bytes";
    else if (!stream_.error.empty())
      msg = stream_.error;
    else
      msg = std::string(fallback) + ": " + archive_message(inner_.get(), "error");
    return Error::msg(where.empty() ? msg : where + ": " + msg);
  }

  const UnpackOptions& opts_;
  Stream stream_;
  ArchivePtr outer_;
  ArchivePtr inner_;
};

}  // namespace

Result<UnpackStats> unpack_layer(int src_fd, int target_dirfd, const UnpackOptions& opts, std::string_view name) {
  LayerReader reader(opts);
  auto r = [&]() -> Result<UnpackStats> {
    BERTH_TRY(reader.open(src_fd));
    return reader.apply_all(target_dirfd);
  }();
  if (!r) return std::move(r).error().wrap("layer " + std::string(name));
  return r;
}

}  // namespace berth::images
