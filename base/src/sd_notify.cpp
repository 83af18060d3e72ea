// sd_notify.cpp — one datagram per notification to systemd's socket (a
// path, or an abstract name when it starts with '@').
#include "berth/base/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string>

#include "berth/base/fd.h"

namespace berth::sd {

namespace {

std::string g_socket;
long g_watchdog_usec = 0;

}  // namespace

void take_from_environment() {
  if (const char* n = std::getenv("NOTIFY_SOCKET")) g_socket = n;
  const char* usec = std::getenv("WATCHDOG_USEC");
  const char* pid = std::getenv("WATCHDOG_PID");
  g_watchdog_usec = 0;
  if (usec && (!pid || std::strtol(pid, nullptr, 10) == ::getpid())) {
    char* end = nullptr;
    long v = std::strtol(usec, &end, 10);
    if (end && *end == '\0' && v > 0) g_watchdog_usec = v;
  }
  for (const char* v : {"NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"}) ::unsetenv(v);
}

void notify(std::string_view msg) {
  if (g_socket.empty()) return;
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  size_t len = g_socket.size();
  if (len >= sizeof a.sun_path) return;
  std::memcpy(a.sun_path, g_socket.data(), len);
  if (a.sun_path[0] == '@') a.sun_path[0] = '\0';  // abstract namespace
  UniqueFd s(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return;
  (void)::sendto(s.get(), msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&a),
                 static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + len));
}

long watchdog_usec() { return g_watchdog_usec; }

}  // namespace berth::sd
