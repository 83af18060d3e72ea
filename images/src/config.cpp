// config.cpp — image configs (OCI and Docker share one shape).
#include "berth/images/manifest.h"
#include "fields.h"

namespace berth::images {

using json::Value;
using namespace fields;

namespace {

// Docker writes null for unset lists ("Cmd": null); treat it as absent.
Result<std::vector<std::string>> optional_strings(const Value& obj, std::string_view key, const std::string& where) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return std::vector<std::string>{};
  return get_strings(*v, dot(where, key));
}

Result<std::string> optional_string(const Value& obj, std::string_view key, const std::string& where) {
  const Value* v = obj.find(key);
  if (!v || v->is_null()) return std::string();
  return get_string(*v, dot(where, key));
}

Status parse_run_config(const Value& c, ImageConfig& out) {
  const std::string w = "config";
  BERTH_TRY(expect_object(c, w));
  out.user = BERTH_TRY(optional_string(c, "User", w));
  out.env = BERTH_TRY(optional_strings(c, "Env", w));
  out.entrypoint = BERTH_TRY(optional_strings(c, "Entrypoint", w));
  out.cmd = BERTH_TRY(optional_strings(c, "Cmd", w));
  out.working_dir = BERTH_TRY(optional_string(c, "WorkingDir", w));
  out.stop_signal = BERTH_TRY(optional_string(c, "StopSignal", w));
  if (const Value* v = c.find("ExposedPorts"); v && !v->is_null())
    out.exposed_ports = BERTH_TRY(get_keys(*v, dot(w, "ExposedPorts")));
  if (const Value* v = c.find("Volumes"); v && !v->is_null()) out.volumes = BERTH_TRY(get_keys(*v, dot(w, "Volumes")));
  if (const Value* v = c.find("Labels"); v && !v->is_null())
    out.labels = BERTH_TRY(get_string_map(*v, dot(w, "Labels")));
  return {};
}

Status parse_rootfs(const Value& r, ImageConfig& out) {
  BERTH_TRY(expect_object(r, "rootfs"));
  std::string type = BERTH_TRY(get_string(*BERTH_TRY(required(r, "type", "rootfs")), "rootfs.type"));
  if (type != "layers") return Error::msg("rootfs.type: expected \"layers\", got \"" + type + "\"");
  auto ids = BERTH_TRY(get_strings(*BERTH_TRY(required(r, "diff_ids", "rootfs")), "rootfs.diff_ids"));
  out.diff_ids.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i)
    out.diff_ids.push_back(BERTH_TRY(Digest::parse(ids[i], idx("rootfs.diff_ids", i))));
  return {};
}

}  // namespace

Result<ImageConfig> parse_config(std::string_view text) {
  auto parse = [&]() -> Result<ImageConfig> {
    Value doc = BERTH_TRY(json::parse(text));
    BERTH_TRY(expect_object(doc, "document"));
    ImageConfig c;
    c.platform = BERTH_TRY(parse_platform(doc, ""));
    if (const Value* v = doc.find("config"); v && !v->is_null()) BERTH_TRY(parse_run_config(*v, c));
    BERTH_TRY(parse_rootfs(*BERTH_TRY(required(doc, "rootfs", "")), c));
    return c;
  };
  auto r = parse();
  if (!r) return std::move(r).error().wrap("config");
  return r;
}

}  // namespace berth::images
