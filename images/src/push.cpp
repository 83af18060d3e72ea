// push.cpp — pushing a tagged image from the store to a registry.
#include "berth/images/pull.h"
#include "parallel.h"

namespace berth::images {

namespace {

struct PushContext {
  const Store& store;
  const Reference& dest;
  const PushOptions& o;
  RegistryClient& client;

  void state(const Descriptor& d, std::string_view kind, BlobState s, uint64_t done = 0) const {
    if (o.progress) o.progress->blob(d.digest, kind, s, done, d.size);
  }

  Status blob(const Descriptor& d, std::string_view kind) const {
    if (!store.has_blob(d.digest))
      return Error(ENOENT, std::string(kind) + " " + d.digest.str() + " is not in the store");
    state(d, kind, BlobState::uploading);
    auto st = client.push_blob(store, dest.repository, d, [&](uint64_t done, uint64_t) {
      state(d, kind, BlobState::uploading, done);
    });
    state(d, kind, st ? BlobState::done : BlobState::failed, d.size);
    return st;
  }

  // Layers (a few at once), then the config, then the manifest itself
  // under `ref`: a registry accepts a manifest only once its blobs exist.
  Result<Digest> manifest(const Descriptor& d, const std::string& ref) const {
    std::string body = BERTH_TRY(store.read_blob(d.digest));
    Manifest m = BERTH_TRY_CTX(parse_manifest(body, d.media_type), "manifest " + d.digest.str());
    for (const auto& l : m.layers) state(l, "layer", BlobState::waiting);
    BERTH_TRY(run_parallel(
        m.layers.size(), client.options().parallel, [&](size_t i) { return blob(m.layers[i], "layer"); },
        [&] { client.cancel(); }));
    BERTH_TRY(blob(m.config, "config"));
    return client.put_manifest(dest.repository, ref, m.media_type, body);
  }
};

Result<Digest> push_image(const Store& store, std::string_view tag, const Reference& dest, const PushOptions& o) {
  Lease lease = BERTH_TRY(store.lease());
  Descriptor top = BERTH_TRY(store.resolve(tag));
  if (dest.digest && !(*dest.digest == top.digest))
    return Error::msg("destination names digest " + dest.digest->str() + " but the image is " + top.digest.str());
  RegistryClient client = BERTH_TRY(RegistryClient::create(dest.registry, o.registry));
  PushContext c{store, dest, o, client};
  std::string ref = dest.manifest_ref();
  if (is_manifest_type(top.media_type)) return c.manifest(top, ref);

  std::string body = BERTH_TRY(store.read_blob(top.digest));
  Index ix = BERTH_TRY_CTX(parse_index(body, top.media_type), "index " + top.digest.str());
  for (const auto& m : ix.manifests)
    if (is_manifest_type(m.media_type) && !store.has_blob(m.digest))
      return Error(ENOENT, "index " + top.digest.short_str() + ": manifest " + m.digest.str() + " (" +
                               (m.platform ? m.platform->str() : "no platform") +
                               ") is not in the store; a registry refuses an index with missing manifests");
  for (const auto& m : ix.manifests)
    if (is_manifest_type(m.media_type)) BERTH_TRY(c.manifest(m, m.digest.str()));
  return client.put_manifest(dest.repository, ref, ix.media_type, body);
}

}  // namespace

Result<Digest> push(const Store& store, std::string_view tag, const Reference& dest, const PushOptions& options) {
  auto r = push_image(store, tag, dest, options);
  if (options.progress) options.progress->finish();
  if (!r) return std::move(r).error().wrap("push " + std::string(tag) + " to " + dest.str());
  return r;
}

}  // namespace berth::images
