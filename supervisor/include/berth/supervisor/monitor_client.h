// monitor_client.h — berthd's side of a monitor: launching it detached and
// reading its hello line.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <string>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "berth/supervisor/layout.h"

namespace berth::supervisor {

struct Hello {
  pid_t init_pid = 0;
  pid_t monitor_pid = 0;
  time_t started = 0;
};

/// Parses the monitor's hello line.
Result<Hello> parse_hello(const std::string& line);

/// Starts `berth-monitor` for `name` in its own session, double-forked so
/// that it is never a child of berthd, and waits (up to `timeout_s`) until
/// it has created and started the container or failed (its error).
Status launch_monitor(const std::string& binary, const Layout& l, const std::string& name, int timeout_s);

/// Connects to a running monitor and reads its hello line.
Result<std::pair<Hello, UniqueFd>> connect_monitor(const Layout& l, const std::string& name);

}  // namespace berth::supervisor
