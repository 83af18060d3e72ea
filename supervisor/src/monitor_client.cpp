// monitor_client.cpp — launching monitors and connecting to them.
#include "berth/supervisor/monitor_client.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "berth/base/json.h"
#include "berth/base/spawn.h"
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
  std::vector<std::string> args = {binary,
                                   "--name",
                                   name,
                                   "--bundle",
                                   l.bundle(name),
                                   "--runtime-root",
                                   l.runtime_root(),
                                   "--socket",
                                   l.monitor_socket(name),
                                   "--exit-file",
                                   l.exit_file(name),
                                   "--log",
                                   l.console_log(name),
                                   "--seccomp-socket",
                                   l.seccomp_socket(name),
                                   "--ready-fd",
                                   "3",
                                   "--detach",
                                   "1"};
  // posix_spawn, not fork: berthd is large and threaded, and fork copies
  // its page tables and then takes a copy-on-write fault (with a TLB
  // shootdown to every core) for each page any of its threads touches.
  // The monitor detaches itself (--detach: it forks, small and static,
  // and its first process exits), so that it is not berthd's child.
  SpawnOptions so;
  so.in = so.out = Stdio::use(devnull.get());
  so.err = Stdio::use(log.get());
  so.extra = {Stdio::use(wr.get())};  // its fd 3, the ready pipe
  // Nothing else of berthd's (its API sockets, above all: a monitor
  // holding the TCP port would keep a restarted berthd from binding it).
  so.close_other_fds = true;
  so.search_path = false;
  so.new_session = true;
  so.unblock_signals = true;
  auto child = spawn(args, so);
  if (!child) {
    int e = child.error().code();
    return Error(e, "start monitor " + binary + ": " + std::strerror(e));
  }
  wr.reset();
  (void)child->wait();
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
