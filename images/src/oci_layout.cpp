// oci_layout.cpp — import from and export to OCI image layout directories.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vector>

#include "berth/base/fs.h"
#include "berth/images/archive.h"
#include "berth/images/image.h"
#include "berth/images/reference.h"
#include "store_internal.h"
#include "tree.h"

namespace berth::images {

namespace {

std::string blob_file(const std::string& dir, const Digest& d) { return dir + "/blobs/sha256/" + d.hex(); }

Status check_layout(const std::string& dir) {
  std::string p = dir + "/oci-layout";
  std::string text = BERTH_TRY(fs::read_file(p, 64 * 1024));
  auto doc = json::parse(text);
  if (!doc) return std::move(doc).error().wrap(p);
  const json::Value* v = doc->find("imageLayoutVersion");
  if (!v || !v->is_string() || v->as_string().rfind("1.", 0) != 0)
    return Error::msg(p + ": imageLayoutVersion: expected a 1.x version string");
  return {};
}

// A blob file of the layout, opened without following a symlink.
Result<UniqueFd> open_layout_blob(const std::string& dir, const Descriptor& d) {
  std::string p = blob_file(dir, d.digest);
  UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return Error::os("open " + p);
  struct stat st;
  if (::fstat(fd.get(), &st) < 0) return Error::os("stat " + p);
  if (!S_ISREG(st.st_mode)) return Error::msg(p + ": not a regular file");
  return fd;
}

Result<std::string> read_layout_blob(const std::string& dir, const Descriptor& d) {
  if (d.size > (16u << 20)) return Error::msg("blob " + d.digest.str() + ": " + std::to_string(d.size) + " bytes is too large for a document");
  UniqueFd fd = BERTH_TRY(open_layout_blob(dir, d));
  std::string text = BERTH_TRY(fs::read_fd(fd.get(), blob_file(dir, d.digest), 16u << 20));
  if (text.size() != d.size || !(sha256_of(text) == d.digest))
    return Error::msg(blob_file(dir, d.digest) + ": content does not match " + d.digest.str() + " (" +
                      std::to_string(text.size()) + " bytes, expected " + std::to_string(d.size) + ")");
  return text;
}

Status copy_in(const Store& store, const std::string& dir, const Descriptor& d) {
  if (store.has_blob(d.digest)) return {};
  UniqueFd fd = BERTH_TRY(open_layout_blob(dir, d));
  return store.put_blob(fd.get(), d.digest, d.size);
}

// The index.json entry to import: by ref.name, or the only one; several
// entries for one name are told apart by platform.
Result<Descriptor> pick_entry(const Index& top, std::string_view name, const Platform& platform) {
  Index candidates;
  std::string names;
  for (const auto& d : top.manifests) {
    const std::string* n = d.annotation(ref_name_annotation);
    if (n) names += (names.empty() ? "" : ", ") + *n;
    if (name.empty() || (n && *n == name)) candidates.manifests.push_back(d);
  }
  if (candidates.manifests.empty())
    return Error(ENOENT, "index.json: no entry named \"" + std::string(name) + "\" (names: " +
                             (names.empty() ? "none" : names) + ")");
  if (candidates.manifests.size() == 1) return candidates.manifests[0];
  auto d = select_platform(candidates, platform);
  if (!d && name.empty()) return Error::msg("index.json: several entries (names: " + names + "); name one");
  return d;
}

Result<Imported> import_layout(const Store& store, const std::string& dir, std::string_view name,
                                 std::string_view tag, const Platform& platform) {
  BERTH_TRY(check_layout(dir));
  Lease lease = BERTH_TRY(store.lease());
  Index top = BERTH_TRY(read_index_file(dir + "/index.json"));
  Descriptor d = BERTH_TRY(pick_entry(top, name, platform));
  if (is_index_type(d.media_type)) {
    Index ix = BERTH_TRY_CTX(parse_index(BERTH_TRY(read_layout_blob(dir, d)), d.media_type), "index " + d.digest.str());
    d = BERTH_TRY_CTX(select_platform(ix, platform), "index " + d.digest.str());
  }
  std::string body = BERTH_TRY(read_layout_blob(dir, d));
  Manifest m = BERTH_TRY_CTX(parse_manifest(body, d.media_type), "manifest " + d.digest.str());
  BERTH_TRY_CTX(check_image_manifest(m), "manifest " + d.digest.str());
  d.media_type = m.media_type;
  BERTH_TRY_CTX(copy_in(store, dir, m.config), "config");
  ImageConfig cfg = BERTH_TRY_CTX(parse_config(BERTH_TRY(store.read_blob(m.config.digest, 16u << 20))), "config");
  BERTH_TRY_CTX(check_config(m, cfg), "manifest " + d.digest.str());
  for (size_t i = 0; i < m.layers.size(); ++i) BERTH_TRY_CTX(copy_in(store, dir, m.layers[i]), "layer " + std::to_string(i));
  BERTH_TRY(store.put_blob(body, d.digest));
  if (!d.platform && !cfg.platform.architecture.empty()) d.platform = cfg.platform;
  BERTH_TRY(store.tag(tag, d));
  return Imported{std::string(tag), std::move(d)};
}

// Copies one blob into the layout (temp file, verified, renamed); a blob
// already there with the right size is kept.
Status copy_out(const Store& store, const std::string& dir, const Descriptor& d) {
  std::string dest = blob_file(dir, d.digest);
  struct stat st;
  if (::lstat(dest.c_str(), &st) == 0 && S_ISREG(st.st_mode) && static_cast<uint64_t>(st.st_size) == d.size) return {};
  UniqueFd src = BERTH_TRY(store.open_blob(d.digest));
  std::string tmp = dest + ".tmp.XXXXXX";
  UniqueFd out(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!out) return Error::os("create " + tmp);
  Defer drop([&] { ::unlink(tmp.c_str()); });
  Sha256 h;
  std::vector<char> buf(256 * 1024);
  for (;;) {
    ssize_t n = ::read(src.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error::os("read blob " + d.digest.str());
    if (n == 0) break;
    h.update(buf.data(), static_cast<size_t>(n));
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out.get(), buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) return Error::os("write " + tmp);
      off += w;
    }
  }
  if (!(h.finish() == d.digest)) return Error::msg("blob " + d.digest.str() + " is corrupt in the store");
  if (::fchmod(out.get(), 0644) < 0 || ::fsync(out.get()) < 0) return Error::os("sync " + tmp);
  if (::rename(tmp.c_str(), dest.c_str()) < 0) return Error::os("rename " + tmp);
  drop.dismiss();
  return {};
}

Status export_layout(const Store& store, std::string_view tag, const std::string& dir, std::string_view name) {
  Lease lease = BERTH_TRY(store.lease());
  std::string t = BERTH_TRY(find_tag(store, tag));
  Descriptor top = BERTH_TRY(store.resolve(t));
  std::vector<Descriptor> blobs{top};
  std::vector<Descriptor> manifests;
  if (is_index_type(top.media_type)) {
    Index ix = BERTH_TRY_CTX(parse_index(BERTH_TRY(store.read_blob(top.digest)), top.media_type), top.digest.str());
    for (const auto& m : ix.manifests) {
      if (!is_manifest_type(m.media_type)) continue;
      if (!store.has_blob(m.digest))
        return Error(ENOENT, "manifest " + m.digest.str() + " of index " + top.digest.short_str() +
                                 " is not in the store");
      manifests.push_back(m);
      blobs.push_back(m);
    }
  } else {
    manifests.push_back(top);
  }
  for (const auto& md : manifests) {
    Manifest m = BERTH_TRY_CTX(parse_manifest(BERTH_TRY(store.read_blob(md.digest)), md.media_type), md.digest.str());
    blobs.push_back(m.config);
    blobs.insert(blobs.end(), m.layers.begin(), m.layers.end());
  }
  BERTH_TRY(fs::mkdir_p(dir + "/blobs/sha256"));
  if (fs::exists(dir + "/oci-layout"))
    BERTH_TRY(check_layout(dir));
  else
    BERTH_TRY(fs::write_file_atomic(dir + "/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}\n"));
  for (const auto& b : blobs) BERTH_TRY(copy_out(store, dir, b));
  BERTH_TRY(fsync_dir(dir + "/blobs/sha256"));

  std::string ref_name(name);
  if (ref_name.empty()) {
    auto ref = parse_reference(t);
    ref_name = ref && !ref->tag.empty() ? ref->tag : t;
  }
  std::string index_path = dir + "/index.json";
  Index ix;
  if (fs::exists(index_path)) ix = BERTH_TRY(read_index_file(index_path));
  std::erase_if(ix.manifests, [&](const Descriptor& d) {
    const std::string* n = d.annotation(ref_name_annotation);
    return n && *n == ref_name;
  });
  top.set_annotation(ref_name_annotation, ref_name);
  ix.manifests.push_back(std::move(top));
  return fs::write_file_atomic(index_path, index_to_json(ix));
}

}  // namespace

Result<Imported> import_oci_layout(const Store& store, const std::string& dir, std::string_view name,
                                     std::string_view tag, const Platform& platform) {
  auto r = import_layout(store, dir, name, tag, platform);
  if (!r) return std::move(r).error().wrap("import OCI layout " + dir);
  return r;
}

Status export_oci_layout(const Store& store, std::string_view tag, const std::string& dir, std::string_view name) {
  auto st = export_layout(store, tag, dir, name);
  if (!st) return std::move(st).error().wrap("export " + std::string(tag) + " to OCI layout " + dir);
  return st;
}

}  // namespace berth::images
