// cmd_exec.cpp — `exec`: from a process.json or from flags over the
// container's own process settings.
#include "args.h"
#include "berth/base/fs.h"
#include "commands.h"

namespace berth::cli {
namespace {

Result<runtime::Process> base_process(const runtime::Globals& g, const std::string& id) {
  auto s = BERTH_TRY(runtime::load_state(g, id));
  auto text = BERTH_TRY(fs::read_file(fs::join(s.bundle, "config.json")));
  auto spec = BERTH_TRY(runtime::parse_spec(text, s.bundle));
  if (!spec.process) return Error::msg("exec: the container has no process section");
  runtime::Process p = *spec.process;
  p.terminal = false;
  p.console_size.reset();
  return p;
}

Result<uint32_t> parse_id(const std::string& s, const char* what) {
  char* end = nullptr;
  unsigned long v = std::strtoul(s.c_str(), &end, 10);
  if (s.empty() || *end || v > UINT32_MAX) return Error::msg(std::string(what) + ": expected a number, got " + s);
  return static_cast<uint32_t>(v);
}

}  // namespace

Result<int> cmd_exec(const runtime::Globals& g, const Argv& argv) {
  Args a =
      BERTH_TRY(parse_flags(argv,
                            {Flag::text({"process", "p"}), Flag::boolean({"detach", "d"}), Flag::text({"pid-file"}),
                             Flag::boolean({"tty", "t"}), Flag::text({"console-socket"}), Flag::text({"cwd"}),
                             Flag::text({"env", "e"}), Flag::text({"user", "u"}), Flag::text({"additional-gids", "g"}),
                             Flag::text({"cap", "c"}), Flag::boolean({"no-new-privs"}), Flag::text({"preserve-fds"}),
                             Flag::text({"process-label"}), Flag::text({"apparmor"}), Flag::text({"pidfd-socket"}),
                             Flag::text({"cgroup"}), Flag::boolean({"ignore-paused"})},
                            true));
  if (a.positional().empty()) return Error::msg("exec: expected a container id");
  runtime::ExecOptions o;
  o.id = a.positional()[0];
  // runc's [CONTROLLER:]PATH; on cgroup v2 the controller part says nothing.
  if (a.has("cgroup")) {
    std::string c = a.get("cgroup");
    o.sub_cgroup = c.substr(c.find(':') == std::string::npos ? 0 : c.find(':') + 1);
  }
  if (a.has("process")) {
    auto text = BERTH_TRY_CTX(fs::read_file(a.get("process")), "--process");
    auto doc = BERTH_TRY_CTX(json::parse(text), "--process " + a.get("process"));
    o.process = BERTH_TRY(runtime::parse_process(doc, "process"));
  } else {
    if (a.positional().size() < 2) return Error::msg("exec: expected a command to run (or --process)");
    o.process = BERTH_TRY(base_process(g, o.id));
    o.process.args.assign(a.positional().begin() + 1, a.positional().end());
    if (a.has("tty")) o.process.terminal = true;
    if (a.has("cwd")) o.process.cwd = a.get("cwd");
    for (const auto& e : a.all("env")) {
      if (e.find('=') == std::string::npos) return Error::msg("--env: expected KEY=value, got " + e);
      o.process.env.push_back(e);
    }
    if (a.has("user")) {
      std::string u = a.get("user");
      auto colon = u.find(':');
      o.process.user.uid = BERTH_TRY(parse_id(u.substr(0, colon), "--user"));
      if (colon != std::string::npos) o.process.user.gid = BERTH_TRY(parse_id(u.substr(colon + 1), "--user"));
    }
    for (const auto& gid : a.all("additional-gids"))
      o.process.user.additional_gids.push_back(BERTH_TRY(parse_id(gid, "--additional-gids")));
    if (a.has("no-new-privs")) o.process.no_new_privileges = true;
    // --cap adds to bounding, effective and permitted — never inheritable
    // (CVE-2022-29162) nor ambient.
    for (const auto& c : a.all("cap")) {
      int n = runtime::capability_from_name(c);
      if (n < 0) return Error::msg("--cap: unknown capability " + c);
      if (!o.process.capabilities) o.process.capabilities = runtime::Capabilities{};
      for (auto* set : {&o.process.capabilities->bounding, &o.process.capabilities->effective,
                        &o.process.capabilities->permitted})
        set->push_back(n);
    }
  }
  if (a.has("process-label")) return Error::msg("exec: --process-label: SELinux is not supported by this runtime");
  if (a.has("apparmor")) o.process.apparmor_profile = a.get("apparmor");
  o.console_socket = a.get("console-socket");
  o.pid_file = a.get("pid-file");
  o.pidfd_socket = a.get("pidfd-socket");
  o.detach = a.has("detach");
  o.ignore_paused = a.has("ignore-paused");
  o.preserve_fds = std::atoi(a.get("preserve-fds", "0").c_str());
  return runtime::exec(g, o);
}

}  // namespace berth::cli
