// sd_notify.h — systemd's service notification protocol, without
// libsystemd: a daemon run by a Type=notify unit says when it is ready,
// what it is doing, and that it is alive (the unit's watchdog).
#pragma once

#include <string_view>

namespace berth::sd {

/// Takes NOTIFY_SOCKET (and the watchdog's settings) out of the
/// environment, so that the processes the daemon starts do not inherit
/// them; later calls use what was taken. Call once, early in main.
void take_from_environment();

/// Sends one notification ("READY=1", "STATUS=...", "WATCHDOG=1",
/// "STOPPING=1", several joined by newlines) when run by systemd; a no-op
/// otherwise. Never blocks and never fails the caller.
void notify(std::string_view msg);

/// The interval within which systemd expects WATCHDOG=1, in microseconds
/// (0: no watchdog for this process: WatchdogSec unset, or WATCHDOG_PID
/// names another process).
long watchdog_usec();

}  // namespace berth::sd
