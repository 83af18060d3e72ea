// run.cpp — `run`: create + start, then (in the foreground) forward signals
// to the container and return its exit status.
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"

namespace berth::runtime {

berth::Status create_impl(const Globals& g, const CreateOptions& o, pid_t* child_out);

Result<int> wait_forwarding_signals(pid_t pid) {
  sigset_t set;
  sigfillset(&set);
  for (int s : {SIGILL, SIGFPE, SIGSEGV, SIGBUS, SIGTRAP, SIGKILL, SIGSTOP}) sigdelset(&set, s);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) return Error::os("signalfd");
  UniqueFd pfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(-1, &status, WNOHANG);
    if (r == pid) break;
    if (r > 0) continue;  // an orphan we reaped as subreaper
    struct pollfd fds[2] = {{sfd.get(), POLLIN, 0}, {pfd.get(), POLLIN, 0}};
    int n = ::poll(fds, pfd ? 2 : 1, pfd ? -1 : 100);
    if (n < 0 && errno != EINTR) return Error::os("poll");
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) continue;
        // Forward everything else to the container's process.
        ::kill(pid, static_cast<int>(si.ssi_signo));
      }
    }
  }
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

Result<int> run(const Globals& g, const CreateOptions& o, bool detach, bool keep) {
  if (!detach) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  pid_t child = 0;
  BERTH_TRY(create_impl(g, o, &child));
  auto st = start(g, o.id);
  if (!st) {
    (void)remove(g, o.id, true);
    return std::move(st).error();
  }
  if (detach) return 0;
  auto code = wait_forwarding_signals(child);
  if (!keep) {
    auto rm = remove(g, o.id, true);
    if (!rm) return std::move(rm).error().wrap("delete after run");
  }
  return code;
}

}  // namespace berth::runtime
