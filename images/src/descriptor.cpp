// descriptor.cpp — media type classes, descriptor and platform JSON.
#include "berth/images/descriptor.h"

#include "fields.h"

namespace berth::images {

using json::Value;
namespace mt = media_type;

bool is_manifest_type(std::string_view t) { return t == mt::oci_manifest || t == mt::docker_manifest; }
bool is_index_type(std::string_view t) { return t == mt::oci_index || t == mt::docker_manifest_list; }
bool is_config_type(std::string_view t) { return t == mt::oci_config || t == mt::docker_config; }

bool is_layer_type(std::string_view t) {
  for (std::string_view l : {mt::oci_layer, mt::oci_layer_gzip, mt::oci_layer_zstd, mt::oci_layer_nd,
                             mt::oci_layer_nd_gzip, mt::oci_layer_nd_zstd, mt::docker_layer_gzip,
                             mt::docker_layer_foreign})
    if (t == l) return true;
  return false;
}

std::string Platform::str() const {
  std::string s = os + "/" + architecture;
  if (!variant.empty()) s += "/" + variant;
  return s;
}

const std::string* Descriptor::annotation(std::string_view key) const {
  for (const auto& [k, v] : annotations)
    if (k == key) return &v;
  return nullptr;
}

void Descriptor::set_annotation(std::string_view key, std::string value) {
  for (auto& [k, v] : annotations)
    if (k == key) {
      v = std::move(value);
      return;
    }
  annotations.emplace_back(std::string(key), std::move(value));
}

Result<Platform> parse_platform(const Value& v, const std::string& where) {
  using namespace fields;
  BERTH_TRY(expect_object(v, where));
  Platform p;
  p.os = BERTH_TRY(get_string(*BERTH_TRY(required(v, "os", where)), dot(where, "os")));
  p.architecture = BERTH_TRY(get_string(*BERTH_TRY(required(v, "architecture", where)), dot(where, "architecture")));
  if (const Value* x = v.find("variant")) p.variant = BERTH_TRY(get_string(*x, dot(where, "variant")));
  if (const Value* x = v.find("os.version")) p.os_version = BERTH_TRY(get_string(*x, dot(where, "os.version")));
  if (const Value* x = v.find("os.features")) p.os_features = BERTH_TRY(get_strings(*x, dot(where, "os.features")));
  return p;
}

Result<Descriptor> parse_descriptor(const Value& v, const std::string& where) {
  using namespace fields;
  BERTH_TRY(expect_object(v, where));
  Descriptor d;
  d.media_type = BERTH_TRY(get_string(*BERTH_TRY(required(v, "mediaType", where)), dot(where, "mediaType")));
  std::string digest = BERTH_TRY(get_string(*BERTH_TRY(required(v, "digest", where)), dot(where, "digest")));
  d.digest = BERTH_TRY(Digest::parse(digest, dot(where, "digest")));
  d.size = BERTH_TRY(get_uint(*BERTH_TRY(required(v, "size", where)), dot(where, "size")));
  if (const Value* x = v.find("urls")) d.urls = BERTH_TRY(get_strings(*x, dot(where, "urls")));
  if (const Value* x = v.find("annotations")) d.annotations = BERTH_TRY(get_string_map(*x, dot(where, "annotations")));
  if (const Value* x = v.find("platform")) d.platform = BERTH_TRY(parse_platform(*x, dot(where, "platform")));
  if (const Value* x = v.find("artifactType")) d.artifact_type = BERTH_TRY(get_string(*x, dot(where, "artifactType")));
  return d;
}

namespace {
Value platform_to_json(const Platform& p) {
  Value v = Value::object();
  v.set("architecture", p.architecture);
  v.set("os", p.os);
  if (!p.os_version.empty()) v.set("os.version", p.os_version);
  if (!p.os_features.empty()) {
    Value f = Value::array();
    for (const auto& s : p.os_features) f.push_back(s);
    v.set("os.features", std::move(f));
  }
  if (!p.variant.empty()) v.set("variant", p.variant);
  return v;
}
}  // namespace

Value descriptor_to_json(const Descriptor& d) {
  Value v = Value::object();
  v.set("mediaType", d.media_type);
  v.set("digest", d.digest.str());
  v.set("size", static_cast<unsigned long long>(d.size));
  if (!d.urls.empty()) {
    Value u = Value::array();
    for (const auto& s : d.urls) u.push_back(s);
    v.set("urls", std::move(u));
  }
  if (!d.annotations.empty()) {
    Value a = Value::object();
    for (const auto& [k, val] : d.annotations) a.set(k, val);
    v.set("annotations", std::move(a));
  }
  if (d.platform) v.set("platform", platform_to_json(*d.platform));
  if (!d.artifact_type.empty()) v.set("artifactType", d.artifact_type);
  return v;
}

}  // namespace berth::images
