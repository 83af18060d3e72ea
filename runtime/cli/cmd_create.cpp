// cmd_create.cpp — `create` and `run`.
#include "args.h"
#include "commands.h"

namespace berth::cli {
namespace {

const std::vector<Flag> kCreateFlags = {
    Flag::text({"bundle", "b"}),     Flag::text({"pid-file"}),          Flag::text({"console-socket"}),
    Flag::boolean({"no-pivot"}),     Flag::boolean({"no-new-keyring"}), Flag::text({"preserve-fds"}),
    Flag::text({"pidfd-socket"}),    Flag::boolean({"detach", "d"}),    Flag::boolean({"keep"}),
    Flag::boolean({"no-subreaper"}),
};

Result<runtime::CreateOptions> create_options(const Args& a, const char* cmd) {
  runtime::CreateOptions o;
  o.id = BERTH_TRY(one_id(a.positional(), cmd));
  // A create never becomes a subreaper: refused by name rather than ignored.
  if (a.has("no-subreaper") && std::string(cmd) == "create")
    return Error::msg("create: --no-subreaper is a flag of run (create never becomes a subreaper)");
  o.bundle = a.get("bundle", ".");
  o.pid_file = a.get("pid-file");
  o.console_socket = a.get("console-socket");
  o.pidfd_socket = a.get("pidfd-socket");
  o.no_pivot = a.has("no-pivot");
  o.no_new_keyring = a.has("no-new-keyring");
  o.no_subreaper = a.has("no-subreaper");
  std::string pf = a.get("preserve-fds", "0");
  char* end = nullptr;
  long n = std::strtol(pf.c_str(), &end, 10);
  if (*end || n < 0 || n > 65536) return Error::msg("--preserve-fds: expected a non-negative number, got " + pf);
  o.preserve_fds = static_cast<int>(n);
  return o;
}

}  // namespace

Result<int> cmd_create(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, kCreateFlags));
  auto o = BERTH_TRY(create_options(a, "create"));
  BERTH_TRY(runtime::create(g, o));
  return 0;
}

Result<int> cmd_run(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, kCreateFlags));
  auto o = BERTH_TRY(create_options(a, "run"));
  return runtime::run(g, o, a.has("detach"), a.has("keep"));
}

}  // namespace berth::cli
