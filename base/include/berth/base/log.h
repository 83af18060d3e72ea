// log.h — the runtime's log: stderr by default, or a file in text or the
// JSON-lines format that containerd and podman read ({"level","msg","time"}).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace berth::log {

enum class Level { debug, info, warning, error };
enum class Format { text, json };

/// Sends the log to `path` (appending; empty = stderr) in `format`.
/// Debug lines are dropped unless `debug` is set.
void configure(const std::string& path, Format format, bool debug);

void write(Level level, std::string_view msg);
inline void debug(std::string_view m) { write(Level::debug, m); }
inline void info(std::string_view m) { write(Level::info, m); }
inline void warn(std::string_view m) { write(Level::warning, m); }
inline void error(std::string_view m) { write(Level::error, m); }

/// Also hands every line kept (after it is written) to `fn`, on the
/// thread that logs; lines logged from inside `fn` reach only the sink.
/// Set once at startup (berthd's log events); null removes it.
void set_observer(std::function<void(Level, std::string_view)> fn);

const char* level_name(Level l);

/// True when debug lines are kept (lets callers skip building them).
bool debug_enabled();

/// RFC 3339 time with nanoseconds, UTC ("2026-11-25T12:00:00.123456789Z").
std::string rfc3339_now();

}  // namespace berth::log
