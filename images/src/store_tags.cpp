// store_tags.cpp — tags in index.json, changed atomically under index.lock.
#include "berth/base/fs.h"
#include "berth/images/manifest.h"
#include "berth/images/store.h"
#include "store_internal.h"
#include "tree.h"

namespace berth::images {

namespace sp = store_paths;

Result<Index> read_index_file(const std::string& path) {
  std::string text = BERTH_TRY(fs::read_file(path, 64u << 20));
  auto ix = parse_index(text, media_type::oci_index);
  if (!ix) return std::move(ix).error().wrap(path);
  return ix;
}

std::string index_to_json(const Index& ix) {
  json::Value v = json::Value::object();
  v.set("schemaVersion", 2);
  v.set("mediaType", media_type::oci_index);
  json::Value ms = json::Value::array();
  for (const auto& d : ix.manifests) ms.push_back(descriptor_to_json(d));
  v.set("manifests", std::move(ms));
  if (!ix.annotations.empty()) {
    json::Value a = json::Value::object();
    for (const auto& [k, val] : ix.annotations) a.set(k, val);
    v.set("annotations", std::move(a));
  }
  return json::dump(v, true) + "\n";
}

namespace {

Status write_index_file(const std::string& path, const Index& ix) {
  return fs::write_file_atomic(path, index_to_json(ix));
}

Status check_ref(std::string_view ref) {
  if (ref.empty() || ref.size() > 1024) return Error::msg("image reference: expected 1-1024 characters");
  for (unsigned char c : ref)
    if (c <= 0x20 || c == 0x7f)
      return Error::msg("image reference \"" + std::string(ref) + "\": contains a space or control character");
  return {};
}

bool has_ref(const Descriptor& d, std::string_view ref) {
  const std::string* n = d.annotation(ref_name_annotation);
  return n && *n == ref;
}

}  // namespace

Result<std::vector<Descriptor>> Store::list() const {
  Index ix = BERTH_TRY(read_index_file(path(sp::index)));
  return std::move(ix.manifests);
}

Result<Descriptor> Store::resolve(std::string_view ref) const {
  Index ix = BERTH_TRY(read_index_file(path(sp::index)));
  for (auto& d : ix.manifests)
    if (has_ref(d, ref)) return std::move(d);
  return Error(ENOENT, "image " + std::string(ref));
}

Status Store::tag(std::string_view ref, Descriptor manifest) const {
  std::string what = "tag " + std::string(ref);
  BERTH_TRY_CTX(check_ref(ref), what);
  if (!is_manifest_type(manifest.media_type) && !is_index_type(manifest.media_type))
    return Error::msg(what + ": mediaType \"" + manifest.media_type + "\" is not a manifest or index");
  Lease l = BERTH_TRY(lease());
  if (!has_blob(manifest.digest)) return Error(ENOENT, what + ": blob " + manifest.digest.str());
  UniqueFd lock = BERTH_TRY(lock_file(path(sp::index_lock), true));
  Index ix = BERTH_TRY(read_index_file(path(sp::index)));
  std::erase_if(ix.manifests, [&](const Descriptor& d) { return has_ref(d, ref); });
  manifest.set_annotation(ref_name_annotation, std::string(ref));
  ix.manifests.push_back(std::move(manifest));
  BERTH_TRY_CTX(write_index_file(path(sp::index), ix), what);
  return {};
}

Status Store::untag(std::string_view ref) const {
  std::string what = "untag " + std::string(ref);
  UniqueFd lock = BERTH_TRY(lock_file(path(sp::index_lock), true));
  Index ix = BERTH_TRY(read_index_file(path(sp::index)));
  if (std::erase_if(ix.manifests, [&](const Descriptor& d) { return has_ref(d, ref); }) == 0)
    return Error(ENOENT, what);
  BERTH_TRY_CTX(write_index_file(path(sp::index), ix), what);
  return {};
}

}  // namespace berth::images
