// cmd_archive.cpp — import-oci, import-docker and export-oci.
#include "args.h"
#include "berth/images/archive.h"
#include "berth/images/reference.h"
#include "commands.h"

namespace berth::image_cli {

using namespace images;

namespace {
// A tag given on the command line, normalised when it is a reference.
std::string store_tag(const std::string& t) {
  auto r = parse_reference(t);
  return r ? r->str() : t;
}
}  // namespace

Status cmd_import_oci(const Globals& g, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("import-oci", argv, {Flag::text({"name"}), Flag::text({"platform"})}));
  BERTH_TRY(a.expect({"DIR", "TAG"}));
  Platform p = BERTH_TRY_CTX(parse_platform_flag(a.get("platform")), "import-oci");
  Store store = BERTH_TRY(Store::open(g.store));
  std::string tag = store_tag(a.positional()[1]);
  Imported r = BERTH_TRY(import_oci_layout(store, a.positional()[0], a.get("name"), tag, p));
  print(r.tag + " " + r.manifest.digest.str() + "\n");
  return {};
}

Status cmd_import_docker(const Globals& g, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("import-docker", argv, {}));
  if (a.positional().size() != 1) BERTH_TRY(a.expect({"TAR", "TAG"}));
  Store store = BERTH_TRY(Store::open(g.store));
  std::string tag = a.positional().size() > 1 ? store_tag(a.positional()[1]) : "";
  Imported r = BERTH_TRY(import_docker_archive(store, a.positional()[0], tag));
  print(r.tag + " " + r.manifest.digest.str() + "\n");
  return {};
}

Status cmd_export_oci(const Globals& g, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("export-oci", argv, {Flag::text({"name"})}));
  BERTH_TRY(a.expect({"TAG", "DIR"}));
  Store store = BERTH_TRY(Store::open(g.store));
  BERTH_TRY(export_oci_layout(store, a.positional()[0], a.positional()[1], a.get("name")));
  print(a.positional()[1] + "\n");
  return {};
}

}  // namespace berth::image_cli
