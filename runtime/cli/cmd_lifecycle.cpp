// cmd_lifecycle.cpp — start, state, kill, delete, pause, resume, list.
#include <pwd.h>
#include <sys/stat.h>

#include "args.h"
#include "berth/base/fs.h"
#include "commands.h"

namespace berth::cli {

Result<int> cmd_start(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {}));
  BERTH_TRY(runtime::start(g, BERTH_TRY(one_id(a.positional(), "start"))));
  return 0;
}

Result<int> cmd_state(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {}));
  auto s = BERTH_TRY(runtime::load_state(g, BERTH_TRY(one_id(a.positional(), "state"))));
  print(json::dump(runtime::state_json(s), true) + "\n");
  return 0;
}

Result<int> cmd_kill(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {Flag::boolean({"all", "a"})}));
  const auto& p = a.positional();
  if (p.empty() || p.size() > 2) return Error::msg("kill: expected ID [SIGNAL]");
  int sig = BERTH_TRY(runtime::parse_signal(p.size() == 2 ? p[1] : "SIGTERM"));
  BERTH_TRY(runtime::kill(g, p[0], sig, a.has("all")));
  return 0;
}

Result<int> cmd_delete(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {Flag::boolean({"force", "f"})}));
  BERTH_TRY(runtime::remove(g, BERTH_TRY(one_id(a.positional(), "delete")), a.has("force")));
  return 0;
}

Result<int> cmd_pause(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {}));
  BERTH_TRY(runtime::pause(g, BERTH_TRY(one_id(a.positional(), "pause"))));
  return 0;
}

Result<int> cmd_resume(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {}));
  BERTH_TRY(runtime::resume(g, BERTH_TRY(one_id(a.positional(), "resume"))));
  return 0;
}

Result<int> cmd_list(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {Flag::text({"format", "f"}), Flag::boolean({"quiet", "q"})}));
  auto states = BERTH_TRY(runtime::list(g));
  std::string fmt = a.get("format", "table");
  if (a.has("quiet")) {
    for (const auto& s : states) print(s.id + "\n");
    return 0;
  }
  if (fmt == "json") {
    json::Value arr = json::Value::array();
    for (const auto& s : states) arr.push_back(runtime::state_json(s));
    print(json::dump(arr) + "\n");
    return 0;
  }
  if (fmt != "table") return Error::msg("--format: expected table or json, got " + fmt);
  std::string out = "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n";
  for (const auto& s : states)
    out += s.id + "\t" + std::to_string(s.status == runtime::ContainerStatus::stopped ? 0 : s.pid) + "\t" +
           runtime::status_name(s.status) + "\t" + s.bundle + "\t" + s.created + "\t" +
           (s.owner.empty() ? "root" : s.owner) + "\n";
  print(out);
  return 0;
}

}  // namespace berth::cli
