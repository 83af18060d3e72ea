// store.cpp — opening the store, its layout files, leases and holds.
#include "berth/images/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/fs.h"
#include "berth/base/json.h"
#include "berth/images/manifest.h"
#include "store_internal.h"
#include "tree.h"

namespace berth::images {

namespace sp = store_paths;

std::string Store::path(std::string_view rel) const { return fs::join(root_, rel); }

Result<Store> Store::open(const std::string& root) {
  if (root.empty()) return Error::msg("image store: empty root path");
  Store s(fs::absolute(root));
  auto st = s.init_layout();
  if (!st) return std::move(st).error().wrap("open image store " + s.root_);
  return s;
}

namespace {

std::string empty_index_json() {
  json::Value v = json::Value::object();
  v.set("schemaVersion", 2);
  v.set("mediaType", media_type::oci_index);
  v.set("manifests", json::Value::array());
  return json::dump(v, true) + "\n";
}

Status check_layout_file(const std::string& p) {
  std::string text = BERTH_TRY(fs::read_file(p, 64 * 1024));
  auto doc = json::parse(text);
  if (!doc) return std::move(doc).error().wrap(p);
  const json::Value* v = doc->find("imageLayoutVersion");
  if (!v || !v->is_string()) return Error::msg(p + ": imageLayoutVersion: required string is missing");
  if (v->as_string().rfind("1.", 0) != 0)
    return Error::msg(p + ": imageLayoutVersion: unsupported version \"" + v->as_string() + "\" (expected 1.x)");
  return {};
}

}  // namespace

Status Store::init_layout() const {
  BERTH_TRY(fs::mkdir_p(root_, 0711));
  for (auto d : {sp::blobs, sp::layers, sp::tmp, sp::holds}) BERTH_TRY(fs::mkdir_p(path(d), 0711));
  std::string layout = path(sp::layout);
  if (fs::exists(layout))
    BERTH_TRY(check_layout_file(layout));
  else
    BERTH_TRY(fs::write_file_atomic(layout, "{\"imageLayoutVersion\":\"1.0.0\"}\n"));
  std::string index = path(sp::index);
  if (fs::exists(index)) return {};
  // Two stores opening at once must not clobber each other's first tag.
  UniqueFd lock = BERTH_TRY(lock_file(path(sp::index_lock), true));
  if (fs::exists(index)) return {};
  return fs::write_file_atomic(index, empty_index_json());
}

Result<Lease> Store::lease() const { return Lease(BERTH_TRY(lock_file(path(sp::store_lock), false))); }

Status check_holder(std::string_view h) {
  bool ok = !h.empty() && h.size() <= 128 && h.front() != '.';
  for (char c : h)
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                c == '-');
  if (!ok)
    return Error::msg("holder \"" + std::string(h.substr(0, 130)) +
                      "\": expected 1-128 of [A-Za-z0-9_.-], not starting with '.'");
  return {};
}

Status Store::hold(std::string_view holder, const Digest& manifest) const {
  BERTH_TRY(check_holder(holder));
  Lease l = BERTH_TRY(lease());
  if (!has_blob(manifest)) return Error(ENOENT, "hold " + std::string(holder) + ": blob " + manifest.str());
  return fs::write_file_atomic(fs::join(path(sp::holds), holder), manifest.str() + "\n");
}

Status Store::release(std::string_view holder) const {
  BERTH_TRY(check_holder(holder));
  std::string p = fs::join(path(sp::holds), holder);
  if (::unlink(p.c_str()) < 0 && errno != ENOENT) return Error::os("release hold " + p);
  return {};
}

}  // namespace berth::images
