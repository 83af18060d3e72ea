// hooks.cpp — runs OCI hooks with the state on stdin and a timeout.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/log.h"
#include "internal.h"

namespace berth::runtime {
namespace {

Result<int> run_one(const Hook& h, const std::string& state_json) {
  int in[2];
  if (::pipe2(in, O_CLOEXEC) < 0) return Error::os("pipe for hook");
  UniqueFd rd(in[0]), wr(in[1]);
  std::vector<char*> argv, envp;
  std::vector<std::string> args = h.args.empty() ? std::vector<std::string>{h.path} : h.args;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env = h.env;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Error::os("fork hook " + h.path);
  if (pid == 0) {
    ::dup2(rd.get(), 0);
    ::execve(h.path.c_str(), argv.data(), envp.data());
    ::_exit(127);
  }
  rd.reset();
  // A hook that does not read its stdin must not block us: ignore EPIPE.
  ::signal(SIGPIPE, SIG_IGN);
  ssize_t w = ::write(wr.get(), state_json.data(), state_json.size());
  (void)w;
  wr.reset();
  UniqueFd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  int timeout_ms = h.timeout ? *h.timeout * 1000 : -1;
  if (pidfd) {
    struct pollfd pfd {
      pidfd.get(), POLLIN, 0
    };
    int r;
    do {
      r = ::poll(&pfd, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      return Error(ETIMEDOUT, "hook " + h.path + " timed out after " + std::to_string(*h.timeout) + "s");
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return Error::os("wait for hook " + h.path);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + WTERMSIG(status);
}

}  // namespace

berth::Status run_hooks(const std::vector<Hook>& hooks, const std::string& kind, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    std::string where = "hooks." + kind + "[" + std::to_string(i) + "]";
    int code = BERTH_TRY_CTX(run_one(hooks[i], state_json), where);
    if (code != 0) return Error::msg(where + ": " + hooks[i].path + " exited with status " + std::to_string(code));
  }
  return {};
}

void run_hooks_warning(const std::vector<Hook>& hooks, const std::string& kind, const std::string& state_json) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    std::string where = "hooks." + kind + "[" + std::to_string(i) + "]";
    auto code = run_one(hooks[i], state_json);
    if (!code) log::warn(std::move(code).error().wrap(where).what());
    else if (*code != 0) log::warn(where + ": " + hooks[i].path + " exited with status " + std::to_string(*code));
  }
}

json::Value hooks_to_json(const std::vector<Hook>& hooks) {
  json::Value arr = json::Value::array();
  for (const auto& h : hooks) {
    json::Value o = json::Value::object();
    o.set("path", h.path);
    if (!h.args.empty()) {
      json::Value a = json::Value::array();
      for (const auto& s : h.args) a.push_back(s);
      o.set("args", std::move(a));
    }
    if (!h.env.empty()) {
      json::Value e = json::Value::array();
      for (const auto& s : h.env) e.push_back(s);
      o.set("env", std::move(e));
    }
    if (h.timeout) o.set("timeout", *h.timeout);
    arr.push_back(std::move(o));
  }
  return arr;
}

Result<std::vector<Hook>> hooks_from_json(const json::Value& v) {
  std::vector<Hook> out;
  if (!v.is_array()) return out;
  for (const auto& e : v.as_array()) {
    Hook h;
    if (auto* p = e.find("path"); p && p->is_string()) h.path = p->as_string();
    if (auto* p = e.find("args"); p && p->is_array())
      for (const auto& a : p->as_array()) h.args.push_back(a.as_string());
    if (auto* p = e.find("env"); p && p->is_array())
      for (const auto& a : p->as_array()) h.env.push_back(a.as_string());
    if (auto* p = e.find("timeout"); p && p->is_int()) h.timeout = static_cast<int>(p->as_int());
    out.push_back(std::move(h));
  }
  return out;
}

}  // namespace berth::runtime
