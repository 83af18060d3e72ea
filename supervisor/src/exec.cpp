// exec.cpp — exec with captured output.
#include "berth/supervisor/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <sstream>

#include "berth/base/fd.h"
#include "berth/base/fs.h"
#include "berth/base/spawn.h"
#include "berth/runtime/spec.h"

namespace berth::supervisor {

namespace {

// The process the container's bundle runs, to base an exec on.
Result<runtime::ExecOptions> bundle_exec(const std::string& bundle, const std::string& name,
                                         const std::vector<std::string>& args) {
  if (args.empty()) return Error::msg("args: expected a command");
  std::string text = BERTH_TRY(fs::read_file(fs::join(bundle, "config.json")));
  runtime::Spec spec = BERTH_TRY_CTX(runtime::parse_spec(text, bundle), "bundle of " + name);
  runtime::ExecOptions o;
  o.id = name;
  o.process = *spec.process;
  o.process.args = args;
  // A systemd guest's cgroup holds only its units: the exec goes to a leaf
  // beside them, so its OOM kill does not fail the guest's init.scope.
  o.busy_leaf = ".berth-exec";
  return o;
}

}  // namespace

Result<runtime::ExecOptions> terminal_exec(const std::string& bundle, const std::string& name,
                                           const json::Value& req) {
  std::vector<std::string> args;
  if (const json::Value* a = req.find("args"); a && a->is_array())
    for (const auto& v : a->as_array())
      if (v.is_string()) args.push_back(v.as_string());
  runtime::ExecOptions o = BERTH_TRY(bundle_exec(bundle, name, args));
  o.process.terminal = true;
  o.process.console_size.reset();
  const json::Value *rows = req.find("rows"), *cols = req.find("cols");
  if (rows && cols && rows->is_uint() && cols->is_uint())
    o.process.console_size = {static_cast<unsigned>(rows->as_uint()), static_cast<unsigned>(cols->as_uint())};
  if (const json::Value* env = req.find("env"); env && env->is_array()) {
    for (const auto& v : env->as_array()) {
      if (!v.is_string()) continue;
      const std::string& kv = v.as_string();
      std::string key = kv.substr(0, kv.find('=') + 1);
      std::erase_if(o.process.env, [&](const std::string& e) { return e.starts_with(key); });
      o.process.env.push_back(kv);
    }
  }
  return o;
}

Result<runtime::ExecOptions> collected_exec(const std::string& bundle, const std::string& name,
                                            const std::vector<std::string>& args) {
  runtime::ExecOptions o = BERTH_TRY(bundle_exec(bundle, name, args));
  o.process.terminal = false;
  o.process.console_size.reset();
  return o;
}

namespace {

// The children of every thread of `pid`.
std::vector<pid_t> children_of(pid_t pid) {
  std::vector<pid_t> out;
  std::string task = "/proc/" + std::to_string(pid) + "/task";
  auto tids = fs::list_dir(task);
  if (!tids) return out;
  for (const std::string& tid : *tids) {
    auto text = fs::read_file(task + "/" + tid + "/children", 1u << 20);
    if (!text) continue;
    std::istringstream ss(*text);
    for (pid_t c; ss >> c;) out.push_back(c);
  }
  return out;
}

}  // namespace

void kill_tree(pid_t pid) {
  for (int pass = 0; pass < 2; ++pass) {
    std::vector<pid_t> all = {pid};
    for (size_t i = 0; i < all.size(); ++i)
      for (pid_t c : children_of(all[i])) all.push_back(c);
    for (pid_t p : all) ::kill(p, SIGKILL);
  }
}

Result<json::Value> exec_collect(const std::string& helper, const runtime::Globals& g, const std::string& bundle,
                                 const std::string& name, const std::vector<std::string>& args,
                                 std::optional<int> timeout, size_t limit) {
  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) < 0) return Error::os("pipe");
  UniqueFd out_r(out[0]), out_w(out[1]);
  if (::pipe2(err, O_CLOEXEC) < 0) return Error::os("pipe");
  UniqueFd err_r(err[0]), err_w(err[1]);
  // The exec needs its own stdio, which a threaded daemon cannot lend, and
  // a fork of the daemon may not run the runtime library: its child would
  // inherit locks other threads held (an allocator's, above all) and wait
  // on them for ever. A helper process is spawned instead (vfork-like, no
  // copy of the daemon), takes the pipes as its stdio and runs the exec.
  std::vector<std::string> argv = {helper, "exec-helper", g.root, bundle, name, "--"};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions so;
  so.in = Stdio::null();
  so.out = Stdio::use(out_w.get());
  so.err = Stdio::use(err_w.get());
  so.close_other_fds = true;
  so.search_path = false;
  auto child = spawn(argv, so);
  if (!child) {
    int e = child.error().code();
    return Error(e, "exec: start " + helper + ": " + std::strerror(e));
  }
  pid_t pid = child->pid();
  out_w.reset();
  err_w.reset();
  std::string bufs[2];
  pollfd p[2] = {{out_r.get(), POLLIN, 0}, {err_r.get(), POLLIN, 0}};
  int open = 2;
  using clock = std::chrono::steady_clock;
  auto deadline = timeout ? clock::now() + std::chrono::seconds(*timeout) : clock::time_point::max();
  bool timed_out = false;
  while (open > 0) {
    int wait_ms = -1;
    if (deadline != clock::time_point::max()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0 && timed_out) break;  // a process that left the tree still holds a pipe
      if (left <= 0) {
        // Killed, then a second for what they wrote last to be read.
        timed_out = true;
        kill_tree(pid);
        deadline = clock::now() + std::chrono::seconds(1);
        continue;
      }
      wait_ms = static_cast<int>(std::min<long long>(left, 60000));
    }
    int ready = ::poll(p, 2, wait_ms);
    if (ready == 0) continue;
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (p[i].fd < 0 || !p[i].revents) continue;
      char buf[8192];
      ssize_t n = ::read(p[i].fd, buf, sizeof buf);
      if (n <= 0) {
        p[i].fd = -1;
        --open;
      } else if (bufs[i].size() < limit) {
        bufs[i].append(buf, static_cast<size_t>(std::min<size_t>(n, limit - bufs[i].size())));
      }
    }
  }
  auto waited = child->wait();
  int status = waited ? *waited : 0;
  json::Value r = json::Value::object();
  r.set("exit_code", timed_out ? 124 : WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  r.set("stdout", bufs[0]);
  r.set("stderr", bufs[1]);
  if (timed_out) r.set("timed_out", true);
  return r;
}

}  // namespace berth::supervisor
