// cmd_exec.cpp — processes and terminals in a container: exec (its output
// captured by berthd, or -t on a pty), enter (a root login shell) and
// console.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "commands.h"
#include "terminal.h"

namespace berth::cli {

namespace {

// `args` on a pty in the container, this terminal raw and its size
// followed; the command's exit status.
Result<int> exec_terminal(Context& c, const std::string& name, const std::vector<std::string>& args) {
  json::Value body = json::Value::object();
  json::Value list = json::Value::array();
  for (const auto& s : args) list.push_back(s);
  body.set("args", std::move(list));
  body.set("terminal", true);
  json::Value env = json::Value::array();
  const char* term = std::getenv("TERM");
  env.push_back(std::string("TERM=") + (term && *term ? term : "xterm"));
  body.set("env", std::move(env));
  winsize ws{};
  for (int fd : {0, 1})
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
      body.set("rows", ws.ws_row);
      body.set("cols", ws.ws_col);
      break;
    }
  client::Upgraded s =
      BERTH_TRY(upgrade(c.api, "POST", "/v1/containers/" + name + "/exec", "berth-exec", json::dump(body)));
  return terminal_session(std::move(s));
}

}  // namespace

Result<int> cmd_exec(Context& c, const Argv& argv) {
  Argv a = argv;
  // -t/--tty and --timeout S before or after NAME.
  bool terminal = false;
  long timeout = -1;
  for (size_t i = 1; i < a.size() && i <= 2;) {
    if (a[i] == "-t" || a[i] == "--tty") {
      terminal = true;
      a.erase(a.begin() + static_cast<long>(i));
    } else if (a[i] == "--timeout" && i + 1 < a.size()) {
      timeout = BERTH_TRY(seconds_arg(a[i + 1]));
      a.erase(a.begin() + static_cast<long>(i), a.begin() + static_cast<long>(i) + 2);
    } else {
      ++i;
    }
  }
  if (terminal && timeout >= 0) return usage_error("exec: --timeout is for a command without -t");
  std::string name = BERTH_TRY(need_name(a));
  size_t from = a.size() > 2 && a[2] == "--" ? 3 : 2;
  if (from >= a.size()) return usage_error("exec: needs a command");
  std::vector<std::string> cmd(a.begin() + static_cast<long>(from), a.end());
  if (terminal) return exec_terminal(c, name, cmd);
  json::Value args = json::Value::array();
  for (const auto& s : cmd) args.push_back(s);
  json::Value body = json::Value::object();
  body.set("args", std::move(args));
  if (timeout >= 0) body.set("timeout", timeout);
  json::Value r = BERTH_TRY(c.api.run_operation("POST", "/v1/containers/" + name + "/exec", json::dump(body)));
  for (auto [key, stream] : {std::pair{"stdout", stdout}, {"stderr", stderr}})
    if (const json::Value* out = r.find(key); out && out->is_string())
      std::fwrite(out->as_string().data(), 1, out->as_string().size(), stream);
  if (const json::Value* t = r.find("timed_out"); t && t->is_bool() && t->as_bool())
    std::fprintf(stderr, "berth: exec: %s: timed out after %ld s; the command was killed\n", name.c_str(), timeout);
  const json::Value* code = r.find("exit_code");
  if (!code || !(code->is_int() || code->is_uint())) return Error(EPROTO, "exec: no exit code in berthd's answer");
  return static_cast<int>(code->as_int());
}

Result<int> cmd_enter(Context& c, const Argv& a) {
  std::string name = BERTH_TRY(need_name(a));
  BERTH_TRY(no_more(a, 2));
  // As vzctl enter does: bash if the container has it, else sh; a login
  // shell as root, in root's home.
  return exec_terminal(c, name,
                       {"/bin/sh", "-c",
                        "export HOME=/root USER=root LOGNAME=root; cd /root 2>/dev/null || cd /; "
                        "if [ -x /bin/bash ]; then exec /bin/bash -l; fi; exec /bin/sh -l"});
}

Result<int> cmd_console(Context& c, const Argv& a) {
  std::string name = BERTH_TRY(need_name(a));
  client::Upgraded s = BERTH_TRY(upgrade(c.api, "GET", "/v1/containers/" + name + "/console", "berth-console"));
  return console_session(std::move(s));
}

}  // namespace berth::cli
