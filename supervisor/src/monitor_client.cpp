// monitor_client.cpp — launching monitors and connecting to them.
#include "berth/supervisor/monitor_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vector>

#include "berth/base/json.h"
#include "berth/supervisor/unix_socket.h"

namespace berth::supervisor {

Result<Hello> parse_hello(const std::string& line) {
  auto v = json::parse(line);
  if (!v) return std::move(v).error().wrap("monitor hello");
  const json::Value *pid = v->find("pid"), *mon = v->find("monitor"), *started = v->find("started");
  if (!pid || !pid->is_uint() || !mon || !mon->is_uint() || !started || !started->is_uint())
    return Error::msg("monitor hello: expected pid, monitor and started, got " + line);
  return Hello{static_cast<pid_t>(pid->as_uint()), static_cast<pid_t>(mon->as_uint()),
               static_cast<time_t>(started->as_uint())};
}

Status launch_monitor(const std::string& binary, const Layout& l, const std::string& name, int timeout_s) {
  BERTH_TRY(fs::mkdir_p(l.monitor_dir(name), 0700));
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return Error::os("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  UniqueFd devnull(::open("/dev/null", O_RDWR | O_CLOEXEC));
  std::string log_path = fs::join(l.container_dir(name), "monitor.log");
  UniqueFd log(::open(log_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!devnull || !log) return Error::os("open monitor stdio");
  // Everything the child needs is built before fork: after fork in a
  // threaded process only async-signal-safe calls are made.
  std::vector<std::string> args = {binary,           "--name",         name,
                                   "--bundle",       l.bundle(name),   "--runtime-root",
                                   l.runtime_root(), "--socket",       l.monitor_socket(name),
                                   "--exit-file",    l.exit_file(name), "--log",
                                   l.console_log(name), "--seccomp-socket", l.seccomp_socket(name),
                                   "--ready-fd",     "3"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Error::os("fork monitor");
  if (pid == 0) {
    ::setsid();
    if (::fork() != 0) ::_exit(0);  // the monitor is reparented away from berthd
    ::dup2(devnull.get(), 0);
    ::dup2(devnull.get(), 1);
    ::dup2(log.get(), 2);
    if (wr.get() == 3) ::fcntl(3, F_SETFD, 0);
    else ::dup2(wr.get(), 3);
    // Nothing else of berthd's (its API sockets, above all: a monitor
    // holding the TCP port would keep a restarted berthd from binding it).
    ::close_range(4, ~0U, CLOSE_RANGE_CLOEXEC);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  wr.reset();
  ::waitpid(pid, nullptr, 0);
  pollfd pf{rd.get(), POLLIN, 0};
  int n = ::poll(&pf, 1, timeout_s * 1000);
  if (n == 0) return Error(ETIMEDOUT, "monitor of " + name + ": no answer in " + std::to_string(timeout_s) + "s");
  auto line = read_line(rd.get());
  if (!line) return Error::msg("monitor of " + name + " exited without an answer (see " + log_path + ")");
  if (*line == "ok") return ok();
  if (line->starts_with("error ")) return Error::msg(line->substr(6));
  return Error::msg("monitor of " + name + ": unexpected answer " + *line);
}

Result<std::pair<Hello, UniqueFd>> connect_monitor(const Layout& l, const std::string& name) {
  UniqueFd c = BERTH_TRY(connect_unix(l.monitor_socket(name)));
  pollfd pf{c.get(), POLLIN, 0};
  if (::poll(&pf, 1, 5000) <= 0) return Error(ETIMEDOUT, "monitor of " + name + ": no hello");
  std::string line = BERTH_TRY_CTX(read_line(c.get()), "monitor of " + name);
  Hello h = BERTH_TRY(parse_hello(line));
  return std::make_pair(h, std::move(c));
}

}  // namespace berth::supervisor
