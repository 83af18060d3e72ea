// pull.cpp — pulling one platform of an image into the store.
#include <set>

#include "berth/images/pull.h"
#include "parallel.h"

namespace berth::images {

namespace {

struct PullContext {
  const Store& store;
  const Reference& ref;
  const PullOptions& o;
  RegistryClient& client;
  std::atomic<uint64_t> fetched{0};

  void note(const std::string& s) const {
    if (o.progress) o.progress->note(s);
  }
  void state(const Descriptor& d, std::string_view kind, BlobState s, uint64_t done = 0) const {
    if (o.progress) o.progress->blob(d.digest, kind, s, done, d.size);
  }

  // Fetches one blob unless the store has it; counts what crossed the wire.
  Status fetch(const Descriptor& d, std::string_view kind) {
    if (store.has_blob(d.digest)) {
      state(d, kind, BlobState::exists, d.size);
      return {};
    }
    state(d, kind, BlobState::downloading);
    auto st = client.fetch_blob(store, ref.repository, d, [&](uint64_t done, uint64_t) {
      state(d, kind, BlobState::downloading, done);
    });
    if (!st) {
      state(d, kind, BlobState::failed);
      return st;
    }
    fetched += d.size;
    return {};
  }
};

// The manifest for the wanted platform: the reference's own, or the one an
// index (manifest list) names for that platform.
Result<std::pair<Descriptor, FetchedManifest>> resolve_manifest(PullContext& c, PullResult& out) {
  FetchedManifest top = BERTH_TRY(c.client.get_manifest(c.ref.repository, c.ref.manifest_ref()));
  out.resolved = top.digest;
  DocumentKind kind = BERTH_TRY_CTX(detect_kind(top.body, top.media_type), "manifest " + top.digest.str());
  Descriptor d;
  d.digest = top.digest;
  d.size = top.body.size();
  d.media_type = top.media_type;
  if (kind == DocumentKind::manifest) return std::pair{std::move(d), std::move(top)};
  Index ix = BERTH_TRY_CTX(parse_index(top.body, top.media_type), "index " + top.digest.str());
  d = BERTH_TRY_CTX(select_platform(ix, c.o.platform), "index " + top.digest.str());
  c.note("resolved " + c.ref.str() + " (index " + top.digest.short_str() + ") to " + d.platform->str() +
         " manifest " + d.digest.short_str());
  FetchedManifest m = BERTH_TRY(c.client.get_manifest(c.ref.repository, d.digest.str()));
  if (m.body.size() != d.size)
    return Error::msg("manifest " + d.digest.str() + ": " + std::to_string(m.body.size()) +
                      " bytes, the index says " + std::to_string(d.size));
  if (m.media_type.empty()) m.media_type = d.media_type;
  return std::pair{std::move(d), std::move(m)};
}

// Downloads (and unpacks) the layers, a few at a time; a layer listed
// twice is fetched once.
Status fetch_layers(PullContext& c, const Manifest& m, const ImageConfig& cfg) {
  struct Job {
    Descriptor layer;
    Digest diff_id;
  };
  std::vector<Job> jobs;
  std::set<std::string> seen;
  for (size_t i = 0; i < m.layers.size(); ++i)
    if (seen.insert(m.layers[i].digest.hex() + cfg.diff_ids[i].hex()).second)
      jobs.push_back(Job{m.layers[i], cfg.diff_ids[i]});
  for (const auto& j : jobs) c.state(j.layer, "layer", BlobState::waiting);
  auto one = [&](size_t i) -> Status {
    const Job& j = jobs[i];
    BERTH_TRY(c.fetch(j.layer, "layer"));
    if (c.client.cancelled()) return Error(ECANCELED, "layer " + j.layer.digest.str() + ": cancelled");
    if (c.o.unpack && !c.store.has_layer(j.diff_id, c.o.unpack_options.id_shift)) {
      c.state(j.layer, "layer", BlobState::unpacking, j.layer.size);
      auto st = c.store.unpack_layer(j.layer, j.diff_id, c.o.unpack_options);
      if (!st) {
        c.state(j.layer, "layer", BlobState::failed);
        return std::move(st).error();
      }
    }
    c.state(j.layer, "layer", BlobState::done, j.layer.size);
    return {};
  };
  auto st = run_parallel(jobs.size(), c.client.options().parallel, one, [&] { c.client.cancel(); });
  // Out of space: the bytes kept for resuming would only hold the disk full.
  if (!st && (st.error().code() == ENOSPC || st.error().code() == EDQUOT))
    for (const auto& j : jobs) c.store.drop_partial(j.layer.digest);
  return st;
}

Result<PullResult> pull_image(const Store& store, const Reference& ref, const PullOptions& o) {
  // Held to the end: gc must not collect blobs that no tag names yet.
  Lease lease = BERTH_TRY(store.lease());
  RegistryClient client = BERTH_TRY(RegistryClient::create(ref.registry, o.registry));
  PullContext c{store, ref, o, client};
  PullResult out;
  auto [desc, fetched] = BERTH_TRY(resolve_manifest(c, out));
  Manifest m = BERTH_TRY_CTX(parse_manifest(fetched.body, fetched.media_type), "manifest " + desc.digest.str());
  BERTH_TRY_CTX(check_image_manifest(m), desc.digest.str());
  desc.media_type = m.media_type;

  BERTH_TRY(c.fetch(m.config, "config"));
  std::string ctext = BERTH_TRY(store.read_blob(m.config.digest, 16u << 20));
  ImageConfig cfg = BERTH_TRY_CTX(parse_config(ctext), "config " + m.config.digest.str());
  BERTH_TRY_CTX(check_config(m, cfg), "manifest " + desc.digest.str());
  if (!desc.platform && !cfg.platform.architecture.empty()) {
    if (!platform_matches(o.platform, cfg.platform))
      return Error::msg("image is for " + cfg.platform.str() + ", not " + o.platform.str());
    desc.platform = cfg.platform;
  }
  c.state(m.config, "config", BlobState::done, m.config.size);

  BERTH_TRY(fetch_layers(c, m, cfg));
  // The tag is the pull's commit: a cancelled pull names nothing.
  if (client.cancelled()) return Error(ECANCELED, "cancelled");
  BERTH_TRY(store.put_blob(fetched.body, desc.digest));
  out.tag = o.tag.empty() ? ref.str() : o.tag;
  BERTH_TRY(store.tag(out.tag, desc));
  out.manifest = std::move(desc);
  out.config = m.config.digest;
  out.bytes_fetched = c.fetched.load();
  out.layers = m.layers.size();
  return out;
}

}  // namespace

Result<PullResult> pull(const Store& store, const Reference& ref, const PullOptions& options) {
  auto r = pull_image(store, ref, options);
  if (options.progress) options.progress->finish();
  if (!r) return std::move(r).error().wrap("pull " + ref.str());
  return r;
}

}  // namespace berth::images
