// store_gc.cpp — mark and sweep: everything reachable from index.json and
// the holds stays; every other blob, unpacked layer and temp file goes.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <set>

#include "berth/base/fs.h"
#include "berth/images/manifest.h"
#include "berth/images/store.h"
#include "store_internal.h"
#include "tree.h"

namespace berth::images {

namespace sp = store_paths;

namespace {

class Marker {
public:
  explicit Marker(const Store& s) : store_(s) {}

  // A document that cannot be read or parsed stops the collection: its
  // children are unknown, and deleting them could break a tagged image.
  Status mark(const Descriptor& d, int depth = 0) {
    if (!blobs_.insert(d.digest.hex()).second) return {};
    if (!store_.has_blob(d.digest)) return {};  // never pulled (another platform)
    bool manifest = is_manifest_type(d.media_type), index = is_index_type(d.media_type);
    if (!manifest && !index) return {};
    if (depth > 8) return Error::msg("index nesting deeper than 8 at " + d.digest.str());
    std::string text = BERTH_TRY(store_.read_blob(d.digest));
    if (index) {
      Index ix = BERTH_TRY_CTX(parse_index(text, d.media_type), "blob " + d.digest.str());
      for (const auto& m : ix.manifests) BERTH_TRY(mark(m, depth + 1));
      return {};
    }
    Manifest m = BERTH_TRY_CTX(parse_manifest(text, d.media_type), "blob " + d.digest.str());
    blobs_.insert(m.config.digest.hex());
    for (const auto& l : m.layers) blobs_.insert(l.digest.hex());
    if (is_config_type(m.config.media_type) && store_.has_blob(m.config.digest)) {
      std::string ctext = BERTH_TRY(store_.read_blob(m.config.digest));
      ImageConfig c = BERTH_TRY_CTX(parse_config(ctext), "blob " + m.config.digest.str());
      for (const auto& id : c.diff_ids) layers_.insert(id.hex());
    }
    return {};
  }

  Status mark_hold(const std::string& file) {
    std::string text = BERTH_TRY(fs::read_file(file, 4096));
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
    Descriptor d;
    d.digest = BERTH_TRY(Digest::parse(text, file));
    if (!store_.has_blob(d.digest)) return {};
    // A hold names a digest only: tell manifest from index by content.
    std::string body = BERTH_TRY(store_.read_blob(d.digest));
    auto kind = detect_kind(body);
    if (!kind) return std::move(kind).error().wrap(file);
    d.media_type = *kind == DocumentKind::index ? media_type::oci_index : media_type::oci_manifest;
    if (auto doc = json::parse(body); doc)
      if (const json::Value* mt = doc->find("mediaType"); mt && mt->is_string()) d.media_type = mt->as_string();
    return mark(d);
  }

  bool blob_live(const std::string& hex) const { return blobs_.count(hex) != 0; }
  bool layer_live(const std::string& key) const { return layers_.count(key.substr(0, key.find('-'))) != 0; }

private:
  const Store& store_;
  std::set<std::string> blobs_;
  std::set<std::string> layers_;
};

Status sweep_blobs(const std::string& dir, const Marker& m, GcStats& stats) {
  for (const auto& name : BERTH_TRY(fs::list_dir(dir))) {
    if (m.blob_live(name)) continue;
    std::string p = fs::join(dir, name);
    struct stat st;
    if (::lstat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode)) stats.bytes_removed += static_cast<uint64_t>(st.st_size);
    BERTH_TRY(remove_tree_at(AT_FDCWD, p, p));
    ++stats.blobs_removed;
  }
  return {};
}

Status sweep_layers(const std::string& dir, const Marker& m, GcStats& stats) {
  for (const auto& name : BERTH_TRY(fs::list_dir(dir))) {
    if (m.layer_live(name)) continue;
    std::string p = fs::join(dir, name);
    BERTH_TRY(remove_tree_at(AT_FDCWD, p, p));
    ++stats.layers_removed;
  }
  return {};
}

// Temp files of writers that died: no writer runs while gc holds the lock.
Status sweep_temps(const std::string& root, GcStats& stats) {
  std::string tmp = fs::join(root, sp::tmp);
  for (const auto& name : BERTH_TRY(fs::list_dir(tmp))) {
    std::string p = fs::join(tmp, name);
    BERTH_TRY(remove_tree_at(AT_FDCWD, p, p));
    ++stats.temps_removed;
  }
  // write_file_atomic leftovers (index.json, oci-layout, holds).
  for (const std::string& dir : {root, fs::join(root, sp::holds)})
    for (const auto& name : BERTH_TRY(fs::list_dir(dir))) {
      if (name.find(".tmp.") == std::string::npos) continue;
      std::string p = fs::join(dir, name);
      if (::unlink(p.c_str()) == 0) ++stats.temps_removed;
    }
  return {};
}

}  // namespace

Result<GcStats> Store::gc() const {
  auto run = [&]() -> Result<GcStats> {
    UniqueFd lock = BERTH_TRY(lock_file(path(sp::store_lock), true));
    Marker m(*this);
    Index ix = BERTH_TRY(read_index_file(path(sp::index)));
    for (const auto& d : ix.manifests) BERTH_TRY(m.mark(d));
    std::string holds = path(sp::holds);
    for (const auto& name : BERTH_TRY(fs::list_dir(holds)))
      if (name.find(".tmp.") == std::string::npos) BERTH_TRY(m.mark_hold(fs::join(holds, name)));
    GcStats stats;
    BERTH_TRY(sweep_blobs(path(sp::blobs), m, stats));
    BERTH_TRY(sweep_layers(path(sp::layers), m, stats));
    BERTH_TRY(sweep_temps(root_, stats));
    return stats;
  };
  auto r = run();
  if (!r) return std::move(r).error().wrap("collect image store " + root_);
  return r;
}

}  // namespace berth::images
