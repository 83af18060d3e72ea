// cmd_spec.cpp — `spec` (a default config.json) and `features`.
#include <fcntl.h>
#include <unistd.h>

#include "../src/security.h"
#include "args.h"
#include "berth/base/fs.h"
#include "commands.h"

namespace berth::cli {

Result<int> cmd_spec(const runtime::Globals&, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {Flag::text({"bundle", "b"}), Flag::boolean({"rootless"})}));
  std::string path = fs::join(a.get("bundle", "."), "config.json");
  if (fs::exists(path)) return Error(EEXIST, "spec: " + path + " already exists");
  BERTH_TRY(fs::write_file_atomic(path, json::dump(runtime::default_spec(a.has("rootless")), true) + "\n"));
  return 0;
}

Result<int> cmd_features(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {}));
  json::Value f = runtime::features_json();
  // What CRIU can do here (checkpoint/restore), asked of criu itself.
  json::Value criu = runtime::criu_annotations(g);
  if (json::Value* ann = f.find("annotations"))
    for (auto& m : criu.as_object()) ann->set(m.first, std::move(m.second));
  print(json::dump(f, true) + "\n");
  return 0;
}

}  // namespace berth::cli
