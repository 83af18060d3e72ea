// log.cpp — log sink.
#include "berth/base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

#include "berth/base/json.h"

namespace berth::log {
namespace {
int g_fd = 2;
Format g_format = Format::text;
bool g_debug = false;
std::function<void(Level, std::string_view)> g_observer;
thread_local bool t_observing = false;
}  // namespace

const char* level_name(Level l) {
  switch (l) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warning: return "warning";
    case Level::error: return "error";
  }
  return "info";
}

void set_observer(std::function<void(Level, std::string_view)> fn) { g_observer = std::move(fn); }

void configure(const std::string& path, Format format, bool debug) {
  g_format = format;
  g_debug = debug;
  if (!path.empty()) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) g_fd = fd;
  }
}

bool debug_enabled() { return g_debug; }

std::string rfc3339_now() {
  struct timespec ts;
  ::clock_gettime(CLOCK_REALTIME, &ts);
  struct tm tm;
  ::gmtime_r(&ts.tv_sec, &tm);
  char buf[64];
  size_t n = ::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09ldZ", ts.tv_nsec);
  return buf;
}

void write(Level level, std::string_view msg) {
  if (level == Level::debug && !g_debug) return;
  std::string line;
  if (g_format == Format::json) {
    line = "{\"level\":\"";
    line += level_name(level);
    line += "\",\"msg\":";
    json::append_quoted(line, msg);
    line += ",\"time\":\"" + rfc3339_now() + "\"}\n";
  } else if (g_fd == 2) {
    line = program_invocation_short_name;  // the binary's own name: berth-runtime, berthd, berth-net...
    line += ": ";
    line += msg;
    line += '\n';
  } else {
    line = rfc3339_now() + " " + level_name(level) + " " + std::string(msg) + "\n";
  }
  ssize_t r = ::write(g_fd, line.data(), line.size());
  (void)r;
  if (g_observer && !t_observing) {
    t_observing = true;
    g_observer(level, msg);
    t_observing = false;
  }
}

}  // namespace berth::log
