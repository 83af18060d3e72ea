// sessions.cpp — commands on terminals inside the container, served by the
// monitor (see sessions.h).
#include "sessions.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/fdpass.h"
#include "berth/base/frames.h"
#include "berth/base/json.h"
#include "berth/supervisor/exec.h"
#include "berth/supervisor/unix_socket.h"

namespace berth::supervisor {

namespace {

constexpr size_t kMaxPending = 1u << 16;  // input for the pty held back before the client is read again

std::string exit_doc(int code, const std::string& error) {
  json::Value v = json::Value::object();
  v.set("code", code);
  if (!error.empty()) v.set("error", error);
  return json::dump(v);
}

// The helper: runs in a fresh child of the monitor, owns nothing of the
// monitor's but fd 3 (its end of the control socket), and exits with the
// command's status.
[[noreturn]] void run_helper(const runtime::Globals& g, runtime::ExecOptions o, int ctl) {
  if (ctl != 3) {
    ::dup2(ctl, 3);
    ctl = 3;
  }
  ::close_range(4, ~0U, 0);
  // The monitor blocks SIGCHLD and ignores SIGPIPE; the command must not
  // inherit either.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  ::signal(SIGPIPE, SIG_DFL);
  o.console_fd = ctl;
  auto r = runtime::exec(g, o);
  if (!r) {
    std::string m = "error " + r.error().what();
    (void)!::send(ctl, m.data(), m.size(), MSG_NOSIGNAL);
    ::_exit(255);
  }
  ::_exit(*r & 0xff);
}

}  // namespace

void Sessions::start(UniqueFd client, const std::string& request, std::string early) {
  Session s;
  s.client = std::move(client);
  s.in = std::move(early);
  auto req = json::parse(request);
  auto o = req ? terminal_exec(bundle_, name_, *req) : Result<runtime::ExecOptions>(std::move(req).error());
  if (!o) {
    (void)write_all(s.client.get(), frames::encode(frames::Kind::exit, exit_doc(255, "exec: " + o.error().what())));
    return;
  }
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    (void)write_all(s.client.get(), frames::encode(frames::Kind::exit, exit_doc(255, "exec: socketpair failed")));
    return;
  }
  s.ctl = UniqueFd(sv[0]);
  UniqueFd theirs(sv[1]);
  s.helper = ::fork();
  if (s.helper < 0) {
    (void)write_all(s.client.get(), frames::encode(frames::Kind::exit, exit_doc(255, "exec: fork failed")));
    return;
  }
  if (s.helper == 0) run_helper(g_, std::move(*o), theirs.release());
  s_.push_back(std::move(s));
  take_frames(s_.back());  // what came with the request
}

void Sessions::fill(std::vector<pollfd>& p) const {
  for (const auto& s : s_) {
    bool take_input = !s.done && s.to_pty.size() < kMaxPending;
    p.push_back({take_input ? s.client.get() : -1, POLLIN, 0});
    p.push_back({s.done ? -1 : s.ctl.get(), POLLIN, 0});
    short ev = static_cast<short>(POLLIN | (s.to_pty.empty() ? 0 : POLLOUT));
    p.push_back({s.done || s.master_hup ? -1 : s.master.get(), ev, 0});
  }
}

void Sessions::handle(const pollfd* p) {
  for (size_t i = 0; i < s_.size(); ++i, p += 3) {
    Session& s = s_[i];
    if (s.done) continue;
    if (p[1].revents) read_ctl(s);
    if (p[2].revents & (POLLIN | POLLHUP | POLLERR)) read_master(s);
    if (p[2].revents & POLLOUT) flush_pty(s);
    if (p[0].revents) read_client(s);
  }
}

void Sessions::read_ctl(Session& s) {
  while (s.ctl) {
    char buf[4096];
    UniqueFd fd;
    auto n = recv_with_fd(s.ctl.get(), buf, &fd, MSG_DONTWAIT);
    if (!n && n.error().code() == EAGAIN) return;
    if (!n || *n == 0) return s.ctl.reset();  // the helper is gone; its status comes by SIGCHLD
    std::string_view text(buf, *n);
    if (fd) {
      s.master = std::move(fd);
      ::fcntl(s.master.get(), F_SETFL, ::fcntl(s.master.get(), F_GETFL) | O_NONBLOCK);
      flush_pty(s);
    } else if (text.starts_with("error ")) {
      s.error = std::string(text.substr(6));
    }
  }
}

void Sessions::read_master(Session& s) {
  char buf[8192];
  for (int rounds = 0; s.master && rounds < 16; ++rounds) {
    ssize_t n = ::read(s.master.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    if (n <= 0) {
      s.master_hup = true;  // EIO once the last slave closed: the helper's exit follows
      return;
    }
    if (!write_all(s.client.get(), frames::encode(frames::Kind::output, std::string_view(buf, static_cast<size_t>(n)))))
      return hang_up(s);
  }
}

void Sessions::flush_pty(Session& s) {
  while (s.master && !s.to_pty.empty()) {
    ssize_t n = ::write(s.master.get(), s.to_pty.data(), s.to_pty.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    s.to_pty.erase(0, static_cast<size_t>(n));
  }
}

void Sessions::read_client(Session& s) {
  char buf[8192];
  ssize_t n = ::read(s.client.get(), buf, sizeof buf);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) return hang_up(s);
  s.in.append(buf, static_cast<size_t>(n));
  take_frames(s);
}

void Sessions::take_frames(Session& s) {
  for (;;) {
    auto f = frames::take(s.in);
    if (!f) return hang_up(s);
    if (!*f) break;
    switch ((*f)->kind) {
      case frames::Kind::input: s.to_pty += (*f)->payload; break;
      case frames::Kind::input_end: {
        // The client's input ended: the terminal's end-of-file character,
        // as a user would type it.
        termios t{};
        char eof = s.master && ::tcgetattr(s.master.get(), &t) == 0 ? static_cast<char>(t.c_cc[VEOF]) : '\x04';
        s.to_pty.push_back(eof);
        break;
      }
      case frames::Kind::resize: {
        auto rc = frames::parse_resize((*f)->payload);
        if (!rc || !s.master) break;
        winsize ws{};
        ws.ws_row = rc->first;
        ws.ws_col = rc->second;
        ::ioctl(s.master.get(), TIOCSWINSZ, &ws);  // the kernel sends SIGWINCH to the foreground group
        break;
      }
      default: return hang_up(s);  // only the monitor sends output and exit
    }
  }
  flush_pty(s);
}

void Sessions::reaped(pid_t pid, int status) {
  for (auto& s : s_) {
    if (s.helper != pid || s.done) continue;
    s.helper = 0;
    read_ctl(s);  // a master or an error sent just before the helper exited
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    finish(s, code);
  }
}

void Sessions::finish(Session& s, int code) {
  // What the command wrote just before it exited is still in the pty.
  if (s.master) read_master(s);
  if (s.client)
    (void)write_all(s.client.get(), frames::encode(frames::Kind::exit, exit_doc(code, s.error)));
  s.done = true;
}

void Sessions::hang_up(Session& s) {
  // As when a terminal closes: the pty's session and its foreground job
  // get SIGHUP (a shell such as busybox sh does not pass it on to its
  // jobs), then closing the master hangs the pty up. The helper forwards
  // SIGHUP too, for a command that has no pty yet.
  if (s.master) {
    pid_t groups[2] = {0, 0};
    ::ioctl(s.master.get(), TIOCGSID, &groups[0]);
    ::ioctl(s.master.get(), TIOCGPGRP, &groups[1]);
    for (pid_t g : groups)
      if (g > 1) ::kill(-g, SIGHUP), ::kill(-g, SIGCONT);
  }
  s.master.reset();
  if (s.helper > 0) ::kill(s.helper, SIGHUP);
  s.done = true;
}

void Sessions::sweep() {
  std::erase_if(s_, [](const Session& s) { return s.done; });
}

}  // namespace berth::supervisor
