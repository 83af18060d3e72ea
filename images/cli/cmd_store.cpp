// cmd_store.cpp — ls, rm, prune and unpack: the store on its own.
#include <cstdio>

#include "args.h"
#include "berth/images/image.h"
#include "berth/images/progress.h"
#include "commands.h"

namespace berth::image_cli {

using namespace images;

Status cmd_ls(const Globals& g, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("ls", argv, {}));
  BERTH_TRY(a.expect({}));
  Store store = BERTH_TRY(Store::open(g.store));
  std::string out;
  char line[1024];
  std::snprintf(line, sizeof line, "%-60s %-19s %-16s %s\n", "TAG", "DIGEST", "PLATFORM", "SIZE");
  out += line;
  for (const auto& d : BERTH_TRY(store.list())) {
    const std::string* tag = d.annotation(ref_name_annotation);
    if (!tag) continue;
    std::string size = "-";
    if (auto img = load_image(store, *tag); img) {
      uint64_t total = img->manifest.config.size;
      for (const auto& l : img->manifest.layers) total += l.size;
      size = human_bytes(total);
    }
    std::snprintf(line, sizeof line, "%-60s %-19s %-16s %s\n", tag->c_str(), d.digest.short_str().c_str(),
                  d.platform ? d.platform->str().c_str() : "-", size.c_str());
    out += line;
  }
  print(out);
  return {};
}

Status cmd_rm(const Globals& g, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("rm", argv, {}));
  BERTH_TRY(a.expect({"TAG"}));
  Store store = BERTH_TRY(Store::open(g.store));
  std::string tag = BERTH_TRY(find_tag(store, a.positional()[0]));
  BERTH_TRY(store.untag(tag));
  print("untagged " + tag + "\n");
  return {};
}

Status cmd_prune(const Globals& g, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("prune", argv, {}));
  BERTH_TRY(a.expect({}));
  Store store = BERTH_TRY(Store::open(g.store));
  GcStats s = BERTH_TRY(store.gc());
  print("removed " + std::to_string(s.blobs_removed) + " blobs (" + human_bytes(s.bytes_removed) + "), " +
        std::to_string(s.layers_removed) + " unpacked layers, " + std::to_string(s.temps_removed) +
        " temporary files\n");
  return {};
}

Status cmd_unpack(const Globals& g, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("unpack", argv, {Flag::text({"platform"})}));
  BERTH_TRY(a.expect({"TAG", "DIR"}));
  Platform p = BERTH_TRY_CTX(parse_platform_flag(a.get("platform")), "unpack");
  Store store = BERTH_TRY(Store::open(g.store));
  Image img = BERTH_TRY(load_image(store, a.positional()[0], p));
  BERTH_TRY(unpack_rootfs(store, img, a.positional()[1], unpack_options_for_caller()));
  print(a.positional()[1] + "\n");
  return {};
}

}  // namespace berth::image_cli
