// commands.h — one function per CLI command; each parses its flags and
// calls the runtime library.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/runtime/container.h"

namespace berth::cli {

using Argv = std::vector<std::string>;
using Command = Result<int> (*)(const runtime::Globals&, const Argv&);

Result<int> cmd_create(const runtime::Globals& g, const Argv& a);
Result<int> cmd_run(const runtime::Globals& g, const Argv& a);
Result<int> cmd_start(const runtime::Globals& g, const Argv& a);
Result<int> cmd_state(const runtime::Globals& g, const Argv& a);
Result<int> cmd_kill(const runtime::Globals& g, const Argv& a);
Result<int> cmd_delete(const runtime::Globals& g, const Argv& a);
Result<int> cmd_pause(const runtime::Globals& g, const Argv& a);
Result<int> cmd_resume(const runtime::Globals& g, const Argv& a);
Result<int> cmd_list(const runtime::Globals& g, const Argv& a);
Result<int> cmd_ps(const runtime::Globals& g, const Argv& a);
Result<int> cmd_exec(const runtime::Globals& g, const Argv& a);
Result<int> cmd_update(const runtime::Globals& g, const Argv& a);
Result<int> cmd_events(const runtime::Globals& g, const Argv& a);
Result<int> cmd_spec(const runtime::Globals& g, const Argv& a);
Result<int> cmd_features(const runtime::Globals& g, const Argv& a);
Result<int> cmd_checkpoint(const runtime::Globals& g, const Argv& a);
Result<int> cmd_restore(const runtime::Globals& g, const Argv& a);

/// Writes all of `s` to stdout.
void print(const std::string& s);
/// The one container id positional a command takes.
Result<std::string> one_id(const std::vector<std::string>& positional, const char* cmd);

}  // namespace berth::cli
