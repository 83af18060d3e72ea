// manifest.cpp — image manifests (OCI and Docker schema2) and document
// kind detection.
#include "berth/images/manifest.h"

#include "fields.h"

namespace berth::images {

using json::Value;
using namespace fields;

namespace {

/// A Content-Type without parameters ("...+json; charset=utf-8").
std::string_view bare_type(std::string_view t) {
  auto semi = t.find(';');
  if (semi != std::string_view::npos) t = t.substr(0, semi);
  while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
  return t;
}

Result<Value> parse_document(std::string_view text) {
  Value doc = BERTH_TRY(json::parse(text));
  BERTH_TRY(expect_object(doc, "document"));
  return doc;
}

}  // namespace

// Shared with index.cpp: the document's mediaType reconciled with the type
// it was served or referred to as.
Result<std::string> document_media_type(const Value& doc, std::string_view content_type, std::string_view fallback) {
  std::string_view served = bare_type(content_type);
  std::string own;
  if (const Value* v = doc.find("mediaType")) own = BERTH_TRY(get_string(*v, "mediaType"));
  if (!own.empty() && !served.empty() && own != served)
    return Error::msg("mediaType: document says \"" + own + "\" but was served as \"" + std::string(served) + "\"");
  if (!own.empty()) return own;
  if (!served.empty()) return std::string(served);
  return std::string(fallback);
}

Result<Manifest> parse_manifest(std::string_view text, std::string_view content_type) {
  auto parse = [&]() -> Result<Manifest> {
    Value doc = BERTH_TRY(parse_document(text));
    BERTH_TRY(expect_schema2(doc, ""));
    Manifest m;
    m.media_type = BERTH_TRY(document_media_type(doc, content_type, media_type::oci_manifest));
    if (!is_manifest_type(m.media_type))
      return Error::msg("mediaType: \"" + m.media_type + "\" is not an image manifest type");
    m.config = BERTH_TRY(parse_descriptor(*BERTH_TRY(required(doc, "config", "")), "config"));
    const Value* layers = BERTH_TRY(required(doc, "layers", ""));
    if (!layers->is_array())
      return Error::msg(std::string("layers: expected array, got ") + Value::type_name(layers->type()));
    m.layers.reserve(layers->as_array().size());
    for (size_t i = 0; i < layers->as_array().size(); ++i)
      m.layers.push_back(BERTH_TRY(parse_descriptor(layers->as_array()[i], idx("layers", i))));
    if (const Value* a = doc.find("annotations")) m.annotations = BERTH_TRY(get_string_map(*a, "annotations"));
    if (const Value* s = doc.find("subject")) m.subject = BERTH_TRY(parse_descriptor(*s, "subject"));
    return m;
  };
  auto r = parse();
  if (!r) return std::move(r).error().wrap("manifest");
  return r;
}

Result<DocumentKind> detect_kind(std::string_view text, std::string_view content_type) {
  auto doc = parse_document(text);
  if (!doc) return std::move(doc).error().wrap("manifest or index");
  std::string mt;
  if (const Value* v = doc->find("mediaType"); v && v->is_string()) mt = v->as_string();
  if (mt.empty()) mt = std::string(bare_type(content_type));
  if (is_manifest_type(mt)) return DocumentKind::manifest;
  if (is_index_type(mt)) return DocumentKind::index;
  if (!mt.empty()) return Error::msg("mediaType: \"" + mt + "\" is neither an image manifest nor an index");
  if (doc->find("manifests")) return DocumentKind::index;
  if (doc->find("layers") || doc->find("config")) return DocumentKind::manifest;
  return Error::msg("document has no mediaType, \"manifests\" or \"layers\": neither a manifest nor an index");
}

Status check_image_manifest(const Manifest& m) {
  if (!is_config_type(m.config.media_type))
    return Error::msg("manifest: config.mediaType: \"" + m.config.media_type + "\" is not an image config type");
  for (size_t i = 0; i < m.layers.size(); ++i)
    if (!is_layer_type(m.layers[i].media_type))
      return Error::msg("manifest: " + idx("layers", i) + ".mediaType: \"" + m.layers[i].media_type +
                        "\" is not an image layer type");
  return {};
}

Status check_config(const Manifest& m, const ImageConfig& c) {
  if (c.diff_ids.size() != m.layers.size())
    return Error::msg("config: rootfs.diff_ids has " + std::to_string(c.diff_ids.size()) +
                      " entries but the manifest has " + std::to_string(m.layers.size()) + " layers");
  return {};
}

}  // namespace berth::images
