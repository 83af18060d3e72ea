// run.cpp — `run`: create + start, then (in the foreground) forward signals
// to the container and return its exit status.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/fdpass.h"
#include "internal.h"

namespace berth::runtime {

berth::Status create_impl(const Globals& g, const CreateOptions& o, pid_t* child_out);

namespace {

void copy_winsize(int from, int to) {
  struct winsize ws {};
  if (::ioctl(from, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) ::ioctl(to, TIOCSWINSZ, &ws);
}

// Copies what is readable on `from` to `to`; false at EOF or error.
bool pump(int from, int to) {
  char buf[16384];
  ssize_t n = ::read(from, buf, sizeof buf);
  if (n <= 0) return n < 0 && (errno == EAGAIN || errno == EINTR);
  for (ssize_t off = 0; off < n;) {
    ssize_t w = ::write(to, buf + off, static_cast<size_t>(n - off));
    if (w < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return false;
    }
    off += w;
  }
  return true;
}

}  // namespace

// The pty master a foreground `run` gets over its own console socket, or
// an empty fd if the container has no terminal.
UniqueFd receive_master(int sock) {
  char name[128];
  UniqueFd master;
  (void)berth::recv_with_fd(sock, name, &master, MSG_DONTWAIT);
  return master;
}

Result<int> wait_forwarding_signals(pid_t pid, int master) {
  sigset_t set;
  sigfillset(&set);
  for (int s : {SIGILL, SIGFPE, SIGSEGV, SIGBUS, SIGTRAP, SIGKILL, SIGSTOP}) sigdelset(&set, s);
  sigset_t old;
  ::sigprocmask(SIG_BLOCK, &set, &old);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sfd) return Error::os("signalfd");
  UniqueFd pfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
  // With a terminal: our stdin goes raw, keys go to the pty, its output to
  // our stdout, and window size changes follow ours.
  struct termios saved {};
  bool raw = master >= 0 && ::isatty(0) && ::tcgetattr(0, &saved) == 0;
  if (raw) {
    struct termios t = saved;
    ::cfmakeraw(&t);
    ::tcsetattr(0, TCSANOW, &t);
  }
  Defer restore([&] {
    if (raw) ::tcsetattr(0, TCSANOW, &saved);
  });
  if (master >= 0) copy_winsize(0, master);
  bool stdin_open = master >= 0;
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(-1, &status, WNOHANG);
    if (r == pid) break;
    if (r > 0) continue;  // an orphan we reaped as subreaper
    struct pollfd fds[4] = {{sfd.get(), POLLIN, 0}, {pfd.get(), POLLIN, 0}, {master, POLLIN, 0},
                            {stdin_open ? 0 : -1, POLLIN, 0}};
    int n = ::poll(fds, 4, pfd ? -1 : 100);
    if (n < 0 && errno != EINTR) return Error::os("poll");
    if (fds[0].revents & POLLIN) {
      struct signalfd_siginfo si;
      while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGCHLD) continue;
        if (si.ssi_signo == SIGWINCH && master >= 0) {
          copy_winsize(0, master);
          continue;
        }
        // Forward everything else to the container's process.
        ::kill(pid, static_cast<int>(si.ssi_signo));
      }
    }
    if (master >= 0 && (fds[2].revents & (POLLIN | POLLHUP)) && !pump(master, 1)) master = -1;
    if (stdin_open && (fds[3].revents & (POLLIN | POLLHUP)) && !pump(0, fds[2].fd)) stdin_open = false;
  }
  // What the container wrote just before it exited.
  if (master >= 0) {
    int fl = ::fcntl(master, F_GETFL);
    ::fcntl(master, F_SETFL, fl | O_NONBLOCK);
    while (pump(master, 1)) {
      struct pollfd p {master, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) break;
    }
  }
  ::sigprocmask(SIG_SETMASK, &old, nullptr);
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

Result<int> run(const Globals& g, const CreateOptions& o, bool detach, bool keep) {
  if (!detach && !o.no_subreaper) ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  pid_t child = 0;
  // A foreground run without --console-socket serves the terminal itself.
  CreateOptions co = o;
  UniqueFd ours, theirs;
  if (!detach && o.console_socket.empty()) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return Error::os("socketpair for the terminal");
    ours = UniqueFd(sv[0]);
    theirs = UniqueFd(sv[1]);
    co.console_fd = theirs.get();
  }
  BERTH_TRY(create_impl(g, co, &child));
  theirs.reset();
  UniqueFd master = ours ? receive_master(ours.get()) : UniqueFd();
  auto st = start(g, o.id);
  if (!st) {
    (void)remove(g, o.id, true);
    return std::move(st).error();
  }
  if (detach) return 0;
  auto code = wait_forwarding_signals(child, master.get());
  if (!keep) {
    auto rm = remove(g, o.id, true);
    if (!rm) return std::move(rm).error().wrap("delete after run");
  }
  return code;
}

}  // namespace berth::runtime
