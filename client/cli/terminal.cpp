// terminal.cpp — the console and `berth exec -t`/`berth enter` sessions
// over an upgraded API connection. The console carries bytes both ways; a
// command on a pty carries frames (keys, window sizes, output), the last
// one the command's exit status, which becomes berth's.
//
// Without a terminal on stdin the command still gets a pty inside; stdin
// is passed on as it is (no raw mode, no window size) and its end is sent
// as the pty's end-of-file character.
#include "terminal.h"

#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <optional>

#include "berth/base/frames.h"

namespace berth::cli {

namespace {

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Restores the terminal however the session ends.
struct RawMode {
  termios saved{};
  bool on = false;
  RawMode() = default;
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;
  void enter() {
    if (::tcgetattr(0, &saved) != 0) return;
    termios raw = saved;
    ::cfmakeraw(&raw);
    on = ::tcsetattr(0, TCSANOW, &raw) == 0;
  }
  ~RawMode() {
    if (on) ::tcsetattr(0, TCSANOW, &saved);
  }
};

// The exit frame's status; prints its error, if any.
int exit_status(const std::string& payload) {
  auto v = json::parse(payload);
  if (!v) return 255;
  if (const json::Value* e = v->find("error"); e && e->is_string())
    std::fprintf(stderr, "berth: %s\n", e->as_string().c_str());
  const json::Value* code = v->find("code");
  return code && code->is_uint() ? static_cast<int>(code->as_uint()) : 255;
}

std::optional<winsize> window_size() {
  winsize ws{};
  for (int fd : {0, 1})
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) return ws;
  return std::nullopt;
}

// The frames in `in` up to the exit frame: output written, the exit
// frame's status once it came.
Result<std::optional<int>> take_frames(std::string& in, std::optional<RawMode>& raw) {
  for (;;) {
    auto f = frames::take(in);
    if (!f) return f.error().wrap("exec");
    if (!*f) return std::optional<int>();
    if ((*f)->kind == frames::Kind::output) {
      if (!write_all(1, (*f)->payload)) return Error::os("exec: write the output");
    } else if ((*f)->kind == frames::Kind::exit) {
      raw.reset();
      return std::optional<int>(exit_status((*f)->payload));
    }
  }
}

}  // namespace

Result<client::Upgraded> upgrade(const client::Api& api, std::string_view method, const std::string& path,
                                 std::string_view protocol, std::string_view body) {
  client::Connection conn = BERTH_TRY(client::Connection::open(api.endpoint()));
  client::Upgraded s = BERTH_TRY(conn.upgrade(method, path, protocol, body));
  if (s.answer.status == 101) return s;
  if (s.answer.status >= 300) return client::answer_error(s.answer);
  return Error(EPROTO, path + ": unexpected answer from berthd");
}

Result<int> console_session(client::Upgraded s) {
  std::optional<RawMode> raw;
  bool tty = ::isatty(0) == 1;
  if (tty) {
    raw.emplace().enter();
    std::fputs("connected to the console of the container; Ctrl-] detaches\r\n", stderr);
  }
  if (!write_all(1, s.early)) return 0;
  pollfd p[2] = {{0, POLLIN, 0}, {s.fd.get(), POLLIN, 0}};
  char buf[8192];
  for (bool open = true; open;) {
    if (::poll(p, 2, -1) < 0) continue;
    if (p[1].revents) {
      ssize_t n = ::read(s.fd.get(), buf, sizeof buf);
      if (n <= 0) break;
      (void)!::write(1, buf, static_cast<size_t>(n));
    }
    if (p[0].revents) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n <= 0) {
        p[0].fd = -1;  // input ended: keep showing the console until it ends
        continue;
      }
      for (ssize_t i = 0; i < n; ++i)
        if (tty && buf[i] == 0x1d) n = i, open = false;  // Ctrl-]
      if (n > 0 && !write_all(s.fd.get(), std::string_view(buf, static_cast<size_t>(n)))) break;
    }
  }
  return 0;
}

Result<int> terminal_session(client::Upgraded s) {
  const bool tty = ::isatty(0) == 1;
  const int sock = s.fd.get();
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  std::optional<RawMode> raw;
  if (tty) raw.emplace().enter();
  std::string in = std::move(s.early);
  if (auto code = BERTH_TRY(take_frames(in, raw))) return *code;
  pollfd p[3] = {{0, POLLIN, 0}, {sock, POLLIN, 0}, {tty ? sfd.get() : -1, POLLIN, 0}};
  char buf[8192];
  for (;;) {
    if (::poll(p, 3, -1) < 0) continue;
    if (p[2].revents) {
      signalfd_siginfo si;
      while (::read(sfd.get(), &si, sizeof si) == sizeof si) {
      }
      if (auto ws = window_size(); ws && !write_all(sock, frames::resize(ws->ws_row, ws->ws_col))) break;
    }
    if (p[0].revents) {
      ssize_t n = ::read(0, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      std::string f = n > 0 ? frames::encode(frames::Kind::input, std::string_view(buf, static_cast<size_t>(n)))
                            : frames::encode(frames::Kind::input_end, "");
      if (n <= 0) p[0].fd = -1;  // keep showing output until the command exits
      if (!write_all(sock, f)) break;
    }
    if (p[1].revents) {
      ssize_t n = ::read(sock, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
      if (auto code = BERTH_TRY(take_frames(in, raw))) return *code;
    }
  }
  return Error::msg("exec: the session ended without an exit status (the container stopped, or berthd went away)");
}

}  // namespace berth::cli
