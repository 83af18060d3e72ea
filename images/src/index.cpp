// index.cpp — image indexes (OCI) and manifest lists (Docker).
#include "berth/images/manifest.h"
#include "fields.h"

namespace berth::images {

using json::Value;
using namespace fields;

Result<Index> parse_index(std::string_view text, std::string_view content_type) {
  auto parse = [&]() -> Result<Index> {
    Value doc = BERTH_TRY(json::parse(text));
    BERTH_TRY(expect_object(doc, "document"));
    BERTH_TRY(expect_schema2(doc, ""));
    Index ix;
    ix.media_type = BERTH_TRY(document_media_type(doc, content_type, media_type::oci_index));
    if (!is_index_type(ix.media_type))
      return Error::msg("mediaType: \"" + ix.media_type + "\" is not an image index type");
    const Value* ms = BERTH_TRY(required(doc, "manifests", ""));
    if (!ms->is_array())
      return Error::msg(std::string("manifests: expected array, got ") + Value::type_name(ms->type()));
    ix.manifests.reserve(ms->as_array().size());
    for (size_t i = 0; i < ms->as_array().size(); ++i)
      ix.manifests.push_back(BERTH_TRY(parse_descriptor(ms->as_array()[i], idx("manifests", i))));
    if (const Value* a = doc.find("annotations")) ix.annotations = BERTH_TRY(get_string_map(*a, "annotations"));
    return ix;
  };
  auto r = parse();
  if (!r) return std::move(r).error().wrap("index");
  return r;
}

}  // namespace berth::images
