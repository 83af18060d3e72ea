// commands.h — the berth CLI's verbs: one function per verb (or group of
// sub-verbs), each parsing its arguments and calling berthd's API through
// berth_client. A failure's code says berth's exit status (client/api.h:
// EINVAL bad usage, ENOENT no such thing, EEXIST conflict, EHOSTUNREACH
// berthd unreachable, else 1).
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/flags.h"
#include "berth/base/json.h"
#include "berth/client/api.h"

namespace berth::cli {

/// The verb's arguments, the verb first.
using Argv = std::vector<std::string>;

/// What every verb gets: berthd's API and whether --format json was asked.
struct Context {
  client::Api api;
  bool json_out = false;
};

using Command = Result<int> (*)(Context&, const Argv&);

// Lifecycle (cmd_lifecycle.cpp).
Result<int> cmd_create(Context& c, const Argv& a);
Result<int> cmd_state_change(Context& c, const Argv& a);  // start, restart, suspend, resume
Result<int> cmd_stop(Context& c, const Argv& a);          // stop, stop --all, destroy
Result<int> cmd_autostart(Context& c, const Argv& a);
Result<int> cmd_set(Context& c, const Argv& a);
Result<int> cmd_snapshot(Context& c, const Argv& a);  // snapshot, rollback, commit
Result<int> cmd_snapshots(Context& c, const Argv& a);
// What berthd shows (cmd_show.cpp).
Result<int> cmd_list(Context& c, const Argv& a);
Result<int> cmd_status(Context& c, const Argv& a);
Result<int> cmd_log(Context& c, const Argv& a);
Result<int> cmd_stream(Context& c, const Argv& a);  // events, metrics
// Processes and terminals in a container (cmd_exec.cpp).
Result<int> cmd_exec(Context& c, const Argv& a);
Result<int> cmd_enter(Context& c, const Argv& a);
Result<int> cmd_console(Context& c, const Argv& a);
// Images and operations (cmd_images.cpp).
Result<int> cmd_image(Context& c, const Argv& a);
Result<int> cmd_operation(Context& c, const Argv& a);
/// `berth image --help`'s text.
extern const char* const kImageUsage;
// Who may use the API and the projects' limits (cmd_access.cpp).
Result<int> cmd_trust(Context& c, const Argv& a);
Result<int> cmd_project(Context& c, const Argv& a);
// Networks (cmd_networks.cpp).
Result<int> cmd_network(Context& c, const Argv& a);
/// The cluster verbs env, node and cluster: berth-cluster's, exec'd
/// (cmd_cluster.cpp); returns only when it cannot be run.
Error exec_cluster(Argv a);

/// An error of the command line (exit status 2).
inline Error usage_error(std::string msg) { return Error(EINVAL, std::move(msg)); }
/// a[from..] parsed against `flags` (base/flags.h, GNU spelling) for
/// `command`, which refusals name; a refusal is a usage error, and -h or
/// --help an error of code flags::kHelpAsked, on which the verb's usage is
/// printed on stdout and berth exits 0.
Result<flags::Args> parse_flags(const Argv& a, size_t from, const std::vector<flags::Flag>& flags,
                                const std::string& command);
/// The container name a verb takes as its first argument.
Result<std::string> need_name(const Argv& a);
/// Refuses arguments from a[from] on.
Status no_more(const Argv& a, size_t from);
/// A --timeout's seconds (cmd_lifecycle.cpp).
Result<long> seconds_arg(const std::string& v);
/// Writes `s` to stdout.
void print(const std::string& s);
/// A document as --format json prints it.
void print_json(const json::Value& v);

}  // namespace berth::cli
