// docker_archive.cpp — importing `docker save` tarballs: manifest.json
// names a config and layer tars; their digests are computed in a first
// pass over the tarball and verified by the store in the second.
#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "berth/base/json.h"
#include "berth/images/archive.h"
#include "berth/images/reference.h"
#include "berth/images/unpack.h"
#include "fields.h"

namespace berth::images {

using json::Value;

Result<std::vector<DockerArchiveImage>> parse_docker_archive_manifest(std::string_view text) {
  auto parse = [&]() -> Result<std::vector<DockerArchiveImage>> {
    Value doc = BERTH_TRY(json::parse(text));
    if (!doc.is_array()) return Error::msg(std::string("expected an array, got ") + Value::type_name(doc.type()));
    if (doc.as_array().empty()) return Error::msg("no images");
    std::vector<DockerArchiveImage> out;
    for (size_t i = 0; i < doc.as_array().size(); ++i) {
      const Value& e = doc.as_array()[i];
      std::string at = fields::idx("", i);
      BERTH_TRY(fields::expect_object(e, at));
      DockerArchiveImage img;
      auto path = [&](const Value& v, const std::string& where) -> Result<std::string> {
        std::string p = BERTH_TRY(fields::get_string(v, where));
        auto clean = clean_entry_path(p);
        if (!clean || *clean == ".") return Error::msg(where + ": \"" + p + "\" is not a relative path inside the tarball");
        return *clean;
      };
      img.config = BERTH_TRY(path(*BERTH_TRY(fields::required(e, "Config", at)), fields::dot(at, "Config")));
      if (const Value* t = e.find("RepoTags"); t && !t->is_null())
        img.repo_tags = BERTH_TRY(fields::get_strings(*t, fields::dot(at, "RepoTags")));
      const Value* layers = BERTH_TRY(fields::required(e, "Layers", at));
      if (!layers->is_array())
        return Error::msg(fields::dot(at, "Layers") + ": expected array, got " + Value::type_name(layers->type()));
      for (size_t j = 0; j < layers->as_array().size(); ++j)
        img.layers.push_back(BERTH_TRY(path(layers->as_array()[j], fields::idx(fields::dot(at, "Layers"), j))));
      out.push_back(std::move(img));
    }
    return out;
  };
  auto r = parse();
  if (!r) return std::move(r).error().wrap("manifest.json");
  return r;
}

namespace {

constexpr uint64_t kKeepInMemory = 4u << 20;  // manifest.json, configs, tiny layers

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};
using ArchivePtr = std::unique_ptr<archive, ArchiveDeleter>;

// A regular file of the tarball, as seen by the first pass.
struct Member {
  Digest digest;
  uint64_t size = 0;
  std::string media_type;  // by its magic: tar, tar+gzip, tar+zstd
  std::optional<std::string> data;
};

struct Scan {
  std::map<std::string, Member> files;
  std::map<std::string, std::string> links;  // symlinks and hardlinks, targets cleaned
};

std::string archive_error(archive* a) {
  const char* s = archive_error_string(a);
  return s ? s : "unknown libarchive error";
}

// libarchive's own codes (ARCHIVE_ERRNO_MISC is -1) are not errnos.
int archive_code(archive* a) { return std::max(0, archive_errno(a)); }

Result<ArchivePtr> open_tarball(const std::string& path) {
  ArchivePtr a(archive_read_new());
  if (!a) return Error(ENOMEM, "archive_read_new");
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_filename(a.get(), path.c_str(), 256 * 1024) != ARCHIVE_OK)
    return Error(archive_code(a.get()), "open " + path + ": " + archive_error(a.get()));
  return a;
}

std::string media_type_of(const unsigned char* p, size_t n) {
  if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b) return std::string(media_type::oci_layer_gzip);
  if (n >= 4 && p[0] == 0x28 && p[1] == 0xb5 && p[2] == 0x2f && p[3] == 0xfd)
    return std::string(media_type::oci_layer_zstd);
  return std::string(media_type::oci_layer);
}

// Reads the current entry's data in blocks.
template <class F>
Status each_block(archive* a, const std::string& name, F&& f) {
  std::vector<char> buf(256 * 1024);
  for (;;) {
    la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
    if (n < 0) return Error(archive_code(a), "read " + name + ": " + archive_error(a));
    if (n == 0) return {};
    BERTH_TRY(f(buf.data(), static_cast<size_t>(n)));
  }
}

// "dir/../x" relative to the entry's directory, cleaned; nullopt if it leaves the tarball.
std::optional<std::string> link_target(const std::string& entry, const char* target, bool hard) {
  if (!target) return std::nullopt;
  std::string t(target);
  if (!hard && !t.empty() && t.front() != '/') {
    size_t slash = entry.rfind('/');
    t = (slash == std::string::npos ? "" : entry.substr(0, slash + 1)) + t;
  }
  // ".." may legitimately step back up inside the tarball ("../abc/layer.tar").
  std::vector<std::string> parts;
  for (size_t s = 0; s <= t.size();) {
    size_t e = t.find('/', s);
    std::string c = t.substr(s, e == std::string::npos ? std::string::npos : e - s);
    if (c == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    if (e == std::string::npos) break;
    s = e + 1;
  }
  std::string out;
  for (const auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

Result<Scan> scan(const std::string& path) {
  ArchivePtr a = BERTH_TRY(open_tarball(path));
  Scan s;
  archive_entry* ae;
  for (;;) {
    int r = archive_read_next_header(a.get(), &ae);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return Error(archive_code(a.get()), "read " + path + ": " + archive_error(a.get()));
    auto name = clean_entry_path(archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "");
    if (!name) continue;  // never referenced: manifest.json paths are checked the same way
    if (const char* h = archive_entry_hardlink(ae)) {
      if (auto t = link_target(*name, h, true)) s.links[*name] = *t;
      continue;
    }
    if (archive_entry_filetype(ae) == AE_IFLNK) {
      if (auto t = link_target(*name, archive_entry_symlink(ae), false)) s.links[*name] = *t;
      continue;
    }
    if (archive_entry_filetype(ae) != AE_IFREG) continue;
    Member m;
    Sha256 h;
    std::string head, data;
    bool keep = archive_entry_size(ae) <= static_cast<la_int64_t>(kKeepInMemory);
    BERTH_TRY(each_block(a.get(), *name, [&](const char* p, size_t n) -> Status {
      h.update(p, n);
      if (head.size() < 4) head.append(p, std::min<size_t>(n, 4 - head.size()));
      if (keep) data.append(p, n);
      m.size += n;
      return {};
    }));
    m.digest = h.finish();
    m.media_type = media_type_of(reinterpret_cast<const unsigned char*>(head.data()), head.size());
    if (keep) m.data = std::move(data);
    s.files[*name] = std::move(m);
  }
  return s;
}

Result<const Member*> member(const Scan& s, std::string name, const std::string& field) {
  for (int hops = 0; hops < 16; ++hops) {
    if (auto f = s.files.find(name); f != s.files.end()) return &f->second;
    auto l = s.links.find(name);
    if (l == s.links.end()) break;
    name = l->second;
  }
  return Error(ENOENT, field + ": \"" + name + "\" is not a file in the tarball");
}

// Second pass: the large layers, streamed into the store and verified.
Status store_large(const Store& store, const std::string& path, const std::map<std::string, const Member*>& wanted) {
  if (wanted.empty()) return {};
  ArchivePtr a = BERTH_TRY(open_tarball(path));
  archive_entry* ae;
  for (;;) {
    int r = archive_read_next_header(a.get(), &ae);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return Error(archive_code(a.get()), "read " + path + ": " + archive_error(a.get()));
    auto name = clean_entry_path(archive_entry_pathname(ae) ? archive_entry_pathname(ae) : "");
    if (!name || archive_entry_filetype(ae) != AE_IFREG) continue;
    auto it = wanted.find(*name);
    if (it == wanted.end() || store.has_blob(it->second->digest)) continue;
    BlobWriter w = BERTH_TRY(store.begin_blob(it->second->digest, it->second->size));
    BERTH_TRY(each_block(a.get(), *name, [&](const char* p, size_t n) { return w.write(p, n); }));
    BERTH_TRY_CTX(w.commit(), *name + " (changed since the first pass?)");
  }
  for (const auto& [name, m] : wanted)
    if (!store.has_blob(m->digest)) return Error(ENOENT, name + ": not found in the second pass");
  return {};
}

const DockerArchiveImage* pick_image(const std::vector<DockerArchiveImage>& imgs, std::string_view tag) {
  if (imgs.size() == 1) return &imgs[0];
  auto canon = [](std::string_view t) {
    auto r = parse_reference(t);
    return r ? r->str() : std::string(t);
  };
  for (const auto& img : imgs)
    for (const auto& t : img.repo_tags)
      if (t == tag || canon(t) == canon(tag)) return &img;
  return nullptr;
}

Result<Imported> import_archive(const Store& store, const std::string& path, std::string_view tag) {
  Scan s = BERTH_TRY(scan(path));
  const Member* mj = BERTH_TRY(member(s, "manifest.json", "manifest.json"));
  if (!mj->data) return Error::msg("manifest.json: larger than " + std::to_string(kKeepInMemory) + " bytes");
  auto images = BERTH_TRY(parse_docker_archive_manifest(*mj->data));
  const DockerArchiveImage* img = pick_image(images, tag);
  if (!img) {
    std::string all;
    for (const auto& i : images)
      for (const auto& t : i.repo_tags) all += (all.empty() ? "" : ", ") + t;
    return Error::msg("manifest.json: " + std::to_string(images.size()) + " images and none tagged \"" +
                      std::string(tag) + "\" (tags: " + (all.empty() ? "none" : all) + ")");
  }
  std::string name(tag);
  if (name.empty()) {
    if (img->repo_tags.empty()) return Error::msg("the image has no RepoTags: give a tag");
    name = BERTH_TRY(parse_reference(img->repo_tags[0])).str();
  }

  const Member* cm = BERTH_TRY(member(s, img->config, "Config"));
  if (!cm->data) return Error::msg("config " + img->config + ": larger than " + std::to_string(kKeepInMemory) + " bytes");
  ImageConfig cfg = BERTH_TRY_CTX(parse_config(*cm->data), "config " + img->config);
  if (cfg.diff_ids.size() != img->layers.size())
    return Error::msg("config " + img->config + ": rootfs.diff_ids has " + std::to_string(cfg.diff_ids.size()) +
                      " entries but manifest.json lists " + std::to_string(img->layers.size()) + " layers");
  Manifest m;
  m.media_type = std::string(media_type::oci_manifest);
  m.config = Descriptor{std::string(media_type::oci_config), cm->digest, cm->size};
  std::map<std::string, const Member*> large;
  Lease lease = BERTH_TRY(store.lease());
  BERTH_TRY(store.put_blob(*cm->data, cm->digest));
  for (size_t i = 0; i < img->layers.size(); ++i) {
    std::string field = "Layers[" + std::to_string(i) + "]";
    const Member* lm = BERTH_TRY(member(s, img->layers[i], field));
    if (lm->media_type == media_type::oci_layer && !(lm->digest == cfg.diff_ids[i]))
      return Error::msg(field + " " + img->layers[i] + ": content has digest " + lm->digest.str() +
                        " but the config's diff_id is " + cfg.diff_ids[i].str());
    m.layers.push_back(Descriptor{lm->media_type, lm->digest, lm->size});
    if (lm->data)
      BERTH_TRY_CTX(store.put_blob(*lm->data, lm->digest), field);
    else
      large[img->layers[i]] = lm;
  }
  // Layers reached through links are stored under the file they name.
  std::map<std::string, const Member*> by_file;
  for (const auto& [p, lm] : large)
    for (const auto& [fname, fm] : s.files)
      if (&fm == lm) by_file[fname] = lm;
  BERTH_TRY(store_large(store, path, by_file));

  Value doc = Value::object();
  doc.set("schemaVersion", 2);
  doc.set("mediaType", m.media_type);
  doc.set("config", descriptor_to_json(m.config));
  Value layers = Value::array();
  for (const auto& l : m.layers) layers.push_back(descriptor_to_json(l));
  doc.set("layers", std::move(layers));
  std::string body = json::dump(doc);
  Descriptor d{m.media_type, BERTH_TRY(store.put_blob(body)), body.size()};
  if (!cfg.platform.architecture.empty()) d.platform = cfg.platform;
  BERTH_TRY(store.tag(name, d));
  return Imported{std::move(name), std::move(d)};
}

}  // namespace

Result<Imported> import_docker_archive(const Store& store, const std::string& tar_path, std::string_view tag) {
  auto r = import_archive(store, tar_path, tag);
  if (!r) return std::move(r).error().wrap("import docker archive " + tar_path);
  return r;
}

}  // namespace berth::images
