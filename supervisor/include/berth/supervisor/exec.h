// exec.h — running a command inside a running system container.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/runtime/container.h"

namespace berth::supervisor {

/// Runs `args` in container `name` through the runtime library, with the
/// container's own process settings (from its bundle) and no terminal;
/// collects stdout and stderr (up to `limit` bytes each). Returns
/// {"exit_code","stdout","stderr"}.
Result<json::Value> exec_collect(const runtime::Globals& g, const std::string& bundle, const std::string& name,
                                 const std::vector<std::string>& args, size_t limit = 16u << 20);

/// The exec of a command on a terminal: the container's own process
/// settings (from its bundle) with the request's {"args", "env" (KEY=VALUE
/// entries replacing the bundle's), "rows", "cols"}, on a pty.
Result<runtime::ExecOptions> terminal_exec(const std::string& bundle, const std::string& name,
                                           const json::Value& req);

}  // namespace berth::supervisor
