// main.cpp — berth-runtime: global flags and the command table.
#include <unistd.h>

#include <cstring>

#include "args.h"
#include "berth/base/log.h"
#include "berth/runtime/sealed_exe.h"
#include "commands.h"

namespace berth::cli {

void print(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(1, s.data() + off, s.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

Result<std::string> one_id(const std::vector<std::string>& positional, const char* cmd) {
  if (positional.size() != 1)
    return Error::msg(std::string(cmd) + ": expected exactly one container id, got " + std::to_string(positional.size()));
  return positional[0];
}

namespace {

struct Entry {
  const char* name;
  Command fn;
  bool enters = false;  // puts a process into a container: runs from a sealed binary
};

constexpr Entry kCommands[] = {
    {"create", cmd_create, true}, {"run", cmd_run, true}, {"start", cmd_start},       {"state", cmd_state},
    {"kill", cmd_kill},           {"delete", cmd_delete}, {"pause", cmd_pause},       {"resume", cmd_resume},
    {"list", cmd_list},           {"ps", cmd_ps},         {"exec", cmd_exec, true},   {"update", cmd_update},
    {"events", cmd_events},       {"spec", cmd_spec},     {"features", cmd_features}, {"checkpoint", cmd_checkpoint},
    {"restore", cmd_restore},
};

const char* kUsage =
    "usage: berth-runtime [global flags] COMMAND [flags] [args]\n"
    "global flags: --root DIR, --log FILE, --log-format text|json, --debug, --systemd-cgroup\n"
    "commands: create run start state kill delete pause resume list ps exec update events spec features\n"
    "          checkpoint restore\n";

void print_version() {
  print("berth-runtime version 0.1.0\ncommit: " BERTH_COMMIT "\nspec: 1.2.0\n");
#ifdef BERTH_UNDEFENDED
  print("undefended: " BERTH_UNDEFENDED " (a test-only build: never install it)\n");
#endif
}

}  // namespace

int main_impl(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  // Global flags come before the command.
  std::vector<Flag> globals = {Flag::text({"root"}),
                               Flag::text({"log"}),
                               Flag::text({"log-format"}),
                               Flag::boolean({"debug"}),
                               Flag::boolean({"systemd-cgroup"}),
                               Flag::text({"criu"}),
                               Flag::text({"rootless"}),
                               Flag::boolean({"version", "v"}),
                               Flag::boolean({"help", "h"})};
  auto parsed = parse_flags(args, globals, true);
  if (!parsed) {
    std::fprintf(stderr, "berth-runtime: %s\n%s", parsed.error().what().c_str(), kUsage);
    return 2;
  }
  const Args& ga = *parsed;
  std::string fmt = ga.get("log-format", "text");
  if (fmt != "text" && fmt != "json") {
    std::fprintf(stderr, "berth-runtime: --log-format: expected text or json, got %s\n", fmt.c_str());
    return 2;
  }
  log::configure(ga.get("log"), fmt == "json" ? log::Format::json : log::Format::text, ga.has("debug"));
  if (ga.has("version")) {
    print_version();
    return 0;
  }
  if (ga.positional().empty() || ga.has("help")) {
    print(kUsage);
    return ga.has("help") ? 0 : 2;
  }
  runtime::Globals g;
  if (ga.has("root")) g.root = ga.get("root");
  g.systemd_cgroup = ga.has("systemd-cgroup") && ga.get("systemd-cgroup") != "false";
  if (!ga.get("criu").empty()) g.criu = ga.get("criu");
  const std::string& name = ga.positional()[0];
  std::vector<std::string> rest(ga.positional().begin() + 1, ga.positional().end());
  for (const auto& c : kCommands) {
    if (name != c.name) continue;
    // reexec_sealed returns once this process runs from a sealed binary.
    Status sealed = c.enters ? runtime::reexec_sealed(argv) : ok();
    auto r = sealed ? c.fn(g, rest) : Result<int>(std::move(sealed).error());
    if (!r && r.error().code() == kHelpAsked) {
      print("usage: berth-runtime [global flags] " + name + " [flags] [args]\n" + r.error().message());
      return 0;
    }
    if (!r) {
      std::string msg = name + ": " + r.error().what();
      log::error(msg);
      if (!ga.get("log").empty()) std::fprintf(stderr, "berth-runtime: %s\n", msg.c_str());
      return 1;
    }
    return *r;
  }
  std::fprintf(stderr, "berth-runtime: unknown command %s\n%s", name.c_str(), kUsage);
  return 2;
}

}  // namespace berth::cli

#if defined(__SANITIZE_ADDRESS__)
// Sanitizer builds: LeakSanitizer stops the world with ptrace, which hangs
// once `exec` has joined a container's pid namespace, and engines (conmon,
// containerd's shim) run the runtime without the test's ASAN_OPTIONS.
// Leaks are checked by the unit tier; memory errors are still caught here.
extern "C" const char* __asan_default_options() { return "detect_leaks=0"; }
#endif

int main(int argc, char** argv) { return berth::cli::main_impl(argc, argv); }
