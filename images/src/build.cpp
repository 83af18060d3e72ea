// build.cpp — add_image: a config and manifest for a base image plus one
// new layer, stored and tagged.
#include <ctime>

#include "berth/base/json.h"
#include "berth/images/build.h"
#include "berth/images/manifest.h"

namespace berth::images {
namespace {

using json::Value;

std::string now_rfc3339() {
  char buf[32];
  time_t t = ::time(nullptr);
  struct tm tm;
  ::gmtime_r(&t, &tm);
  ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Value strings(const std::vector<std::string>& v) {
  Value a = Value::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

// A base image's layers in OCI terms (a Docker schema2 base is converted,
// since one manifest cannot mix the two media type families).
std::string oci_layer_type(const std::string& mt) {
  if (mt == media_type::docker_layer_gzip) return std::string(media_type::oci_layer_gzip);
  if (mt == media_type::docker_layer_foreign) return std::string(media_type::oci_layer_nd_gzip);
  return mt;
}

Value fresh_config(const NewImage& spec) {
  Platform p = host_platform();
  Value c = Value::object();
  c.set("architecture", p.architecture);
  c.set("os", p.os);
  if (!p.variant.empty()) c.set("variant", p.variant);
  Value proc = Value::object();
  if (!spec.entrypoint.empty()) proc.set("Entrypoint", strings(spec.entrypoint));
  if (!spec.cmd.empty()) proc.set("Cmd", strings(spec.cmd));
  if (!spec.env.empty()) proc.set("Env", strings(spec.env));
  if (!spec.working_dir.empty()) proc.set("WorkingDir", spec.working_dir);
  if (!spec.stop_signal.empty()) proc.set("StopSignal", spec.stop_signal);
  c.set("config", std::move(proc));
  Value rootfs = Value::object();
  rootfs.set("type", "layers");
  rootfs.set("diff_ids", Value::array());
  c.set("rootfs", std::move(rootfs));
  return c;
}

struct Base {
  std::vector<Descriptor> layers;
  Value config;
};

Result<Base> load_base(const Store& store, const NewImage& spec) {
  Base b;
  if (!spec.base) {
    b.config = fresh_config(spec);
    return b;
  }
  std::string mtext = BERTH_TRY(store.read_blob(*spec.base));
  Manifest m = BERTH_TRY_CTX(parse_manifest(mtext), "manifest " + spec.base->short_str());
  std::string ctext = BERTH_TRY(store.read_blob(m.config.digest));
  b.config = BERTH_TRY_CTX(json::parse(ctext), "config " + m.config.digest.short_str());
  if (!b.config.is_object()) return Error::msg("config " + m.config.digest.short_str() + ": not an object");
  for (auto l : m.layers) {
    l.media_type = oci_layer_type(l.media_type);
    b.layers.push_back(std::move(l));
  }
  return b;
}

}  // namespace

Result<Descriptor> add_image(const Store& store, const WrittenLayer& layer, const NewImage& spec, std::string_view tag) {
  Base b = BERTH_TRY(load_base(store, spec));
  Value& cfg = b.config;
  std::string created = now_rfc3339();
  cfg.set("created", created);
  Value* rootfs = cfg.find("rootfs");
  if (!rootfs || !rootfs->is_object()) rootfs = &cfg.set("rootfs", Value::object());
  rootfs->set("type", "layers");
  Value* ids = rootfs->find("diff_ids");
  if (!ids || !ids->is_array()) ids = &rootfs->set("diff_ids", Value::array());
  ids->push_back(layer.diff_id.str());
  Value* history = cfg.find("history");
  if (!history || !history->is_array()) history = &cfg.set("history", Value::array());
  Value h = Value::object();
  h.set("created", created);
  h.set("created_by", spec.created_by.empty() ? std::string("berth") : spec.created_by);
  history->push_back(std::move(h));
  if (!spec.labels.empty()) {
    Value* proc = cfg.find("config");
    if (!proc || !proc->is_object()) proc = &cfg.set("config", Value::object());
    Value* labels = proc->find("Labels");
    if (!labels || !labels->is_object()) labels = &proc->set("Labels", Value::object());
    for (const auto& [k, v] : spec.labels) labels->set(k, v);
  }
  std::string ctext = json::dump(cfg);
  Digest cdigest = BERTH_TRY(store.put_blob(ctext));

  Value m = Value::object();
  m.set("schemaVersion", 2);
  m.set("mediaType", media_type::oci_manifest);
  m.set("config", descriptor_to_json(Descriptor{std::string(media_type::oci_config), cdigest, ctext.size()}));
  Value layers = Value::array();
  for (const auto& l : b.layers) layers.push_back(descriptor_to_json(l));
  layers.push_back(descriptor_to_json(layer.descriptor));
  m.set("layers", std::move(layers));
  std::string mtext = json::dump(m);
  Descriptor d{std::string(media_type::oci_manifest), BERTH_TRY(store.put_blob(mtext)), mtext.size()};
  ImageConfig parsed = BERTH_TRY_CTX(parse_config(ctext), "new config");
  if (!parsed.platform.architecture.empty()) d.platform = parsed.platform;
  BERTH_TRY(store.tag(tag, d));
  return d;
}

}  // namespace berth::images
