// terminal.cpp — `berth exec -t` and `berth enter`: a command on a pty
// inside the container. The request upgrades the API connection; frames
// (frames.h) then carry keys, window sizes and output, and the last one
// the command's exit status, which becomes berth's.
//
// Without a terminal on stdin the command still gets a pty inside; stdin
// is passed on as it is (no raw mode, no window size) and its end is sent
// as the pty's end-of-file character.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "berth/supervisor/frames.h"
#include "berth/supervisor/peer_client.h"
#include "berth/supervisor/unix_socket.h"
#include "client.h"
#include "connection.h"

using namespace berth::supervisor;

namespace berth::cli {

namespace {

std::optional<winsize> window_size() {
  winsize ws{};
  for (int fd : {0, 1})
    if (::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) return ws;
  return std::nullopt;
}

}  // namespace

// Sends an upgrading request (`protocol` in its Upgrade header, `body` as
// JSON unless empty) and returns the connection once berthd answers 101;
// exits with berthd's error otherwise (the answer read by its
// Content-Length: berthd keeps the connection open).
UniqueFd upgrade(const std::string& method, const std::string& path, const std::string& protocol,
                 const std::string& body) {
  Connection c = Connection::open();
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: berthd\r\nConnection: Upgrade\r\nUpgrade: " + protocol + "\r\n";
  if (!body.empty())
    req += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n" + body;
  c.write_all(req);
  // Byte by byte: what follows the head is the session's first frames.
  std::string head;
  char byte;
  while (head.find("\r\n\r\n") == std::string::npos && c.read(&byte, 1) == 1) head.push_back(byte);
  size_t end = head.find("\r\n\r\n");
  if (end == std::string::npos) die(1, path + ": berthd closed the connection before answering");
  auto parsed = parse_response_head(std::string_view(head).substr(0, end));
  if (!parsed) die(1, "malformed answer from berthd: " + parsed.error().what());
  if (parsed->status != 101) {
    size_t len = 0;
    if (auto it = parsed->headers.find("content-length"); it != parsed->headers.end())
      len = std::strtoul(it->second.c_str(), nullptr, 10);
    std::string answer;
    char buf[4096];
    for (size_t n; answer.size() < len && (n = c.read(buf, std::min(sizeof buf, len - answer.size()))) > 0;)
      answer.append(buf, n);
    expect_ok(Response{parsed->status, answer});
    die(1, path + ": unexpected answer from berthd");
  }
  return c.into_fd();
}

namespace {

// Restores the terminal however the session ends.
struct RawMode {
  termios saved{};
  bool on = false;
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

// Relays until the exit frame; returns its status.
int serve(int sock, bool tty) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGWINCH);
  ::sigprocmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sfd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  std::optional<RawMode> raw;
  if (tty) raw.emplace().enter();
  pollfd p[3] = {{0, POLLIN, 0}, {sock, POLLIN, 0}, {tty ? sfd.get() : -1, POLLIN, 0}};
  std::string in;
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
      for (;;) {
        auto f = frames::take(in);
        if (!f) {
          raw.reset();
          die(1, "exec: " + f.error().what());
        }
        if (!*f) break;
        if ((*f)->kind == frames::Kind::output) {
          if (!write_all(1, (*f)->payload)) break;
        } else if ((*f)->kind == frames::Kind::exit) {
          raw.reset();
          return exit_status((*f)->payload);
        }
      }
    }
  }
  raw.reset();
  die(1, "exec: the session ended without an exit status (the container stopped, or berthd went away)");
}

}  // namespace

int exec_terminal(const std::string& name, const std::vector<std::string>& args) {
  bool tty = ::isatty(0) == 1;
  json::Value body = json::Value::object();
  json::Value a = json::Value::array();
  for (const auto& s : args) a.push_back(s);
  body.set("args", std::move(a));
  body.set("terminal", true);
  json::Value env = json::Value::array();
  const char* term = std::getenv("TERM");
  env.push_back(std::string("TERM=") + (term && *term ? term : "xterm"));
  body.set("env", std::move(env));
  if (auto ws = window_size()) {
    body.set("rows", ws->ws_row);
    body.set("cols", ws->ws_col);
  }
  UniqueFd s = upgrade("POST", "/v1/containers/" + name + "/exec", "berth-exec", json::dump(body));
  return serve(s.get(), tty);
}

int enter(const std::string& name) {
  // As vzctl enter does: bash if the container has it, else sh; a login
  // shell as root, in root's home.
  return exec_terminal(name, {"/bin/sh", "-c",
                              "export HOME=/root USER=root LOGNAME=root; cd /root 2>/dev/null || cd /; "
                              "if [ -x /bin/bash ]; then exec /bin/bash -l; fi; exec /bin/sh -l"});
}

}  // namespace berth::cli
