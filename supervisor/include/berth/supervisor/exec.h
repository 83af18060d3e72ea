// exec.h — running a command inside a running system container.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/runtime/container.h"

namespace berth::supervisor {

/// The exec of `args` in container `name` with the container's own
/// process settings (from its bundle) and no terminal.
Result<runtime::ExecOptions> collected_exec(const std::string& bundle, const std::string& name,
                                            const std::vector<std::string>& args);

/// Runs `args` (non-empty: the API refuses an empty list) in container
/// `name` through `helper` (the berth-monitor binary's "exec-helper"
/// mode, which reads the bundle and runs collected_exec() with the
/// runtime library) and collects stdout and stderr (up to `limit` bytes
/// each). Returns {"exit_code","stdout","stderr"}; an exec that could not
/// be made is exit code 255 with the reason on stderr. Past `timeout`
/// seconds (none: no limit) the helper and every process below it are
/// killed, what they wrote until then is kept, the exit code is 124 and
/// "timed_out" is true.
Result<json::Value> exec_collect(const std::string& helper, const runtime::Globals& g, const std::string& bundle,
                                 const std::string& name, const std::vector<std::string>& args,
                                 std::optional<int> timeout = {}, size_t limit = 16u << 20);

/// Kills `pid` and every process below it (children found through
/// /proc/PID/task/TID/children, twice, so that a fork racing the first
/// pass is found by the second).
void kill_tree(pid_t pid);

/// The exec of a command on a terminal: the container's own process
/// settings (from its bundle) with the request's {"args", "env" (KEY=VALUE
/// entries replacing the bundle's), "rows", "cols"}, on a pty.
Result<runtime::ExecOptions> terminal_exec(const std::string& bundle, const std::string& name,
                                           const json::Value& req);

}  // namespace berth::supervisor
