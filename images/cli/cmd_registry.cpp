// cmd_registry.cpp — pull and push.
#include <unistd.h>

#include "args.h"
#include "berth/images/image.h"
#include "berth/images/pull.h"
#include "commands.h"

namespace berth::image_cli {

using namespace images;

namespace {
std::unique_ptr<Progress> progress_for(const Globals& g) {
  return g.quiet ? nullptr : make_progress(2);
}
}  // namespace

Status cmd_pull(const Globals& g, const std::vector<std::string>& argv) {
  auto flags = registry_flags();
  flags.push_back(Flag::text({"platform"}));
  flags.push_back(Flag::boolean({"no-unpack"}));
  flags.push_back(Flag::text({"tag"}));
  Args a = BERTH_TRY(parse_flags("pull", argv, flags));
  BERTH_TRY(a.expect({"REF"}));
  Reference ref = BERTH_TRY(parse_reference(a.positional()[0]));
  PullOptions o;
  o.platform = BERTH_TRY_CTX(parse_platform_flag(a.get("platform")), "pull");
  o.registry = BERTH_TRY(registry_options(a));
  o.unpack = !a.has("no-unpack");
  o.unpack_options = unpack_options_for_caller();
  o.tag = a.get("tag");
  auto progress = progress_for(g);
  o.progress = progress.get();
  Store store = BERTH_TRY(Store::open(g.store));
  PullResult r = BERTH_TRY(pull(store, ref, o));
  print(r.tag + " " + r.manifest.digest.str() + "\n");
  return {};
}

Status cmd_push(const Globals& g, const std::vector<std::string>& argv) {
  Args a = BERTH_TRY(parse_flags("push", argv, registry_flags()));
  BERTH_TRY(a.expect({"SRC_TAG", "DEST_REF"}));
  Reference dest = BERTH_TRY(parse_reference(a.positional()[1]));
  PushOptions o;
  o.registry = BERTH_TRY(registry_options(a));
  auto progress = progress_for(g);
  o.progress = progress.get();
  Store store = BERTH_TRY(Store::open(g.store));
  std::string tag = BERTH_TRY(find_tag(store, a.positional()[0]));
  Digest d = BERTH_TRY(push(store, tag, dest, o));
  print(dest.str() + " " + d.str() + "\n");
  return {};
}

}  // namespace berth::image_cli
