// bundle.h — the OCI bundle of a system container, generated from its
// record (pure: no I/O), and the record's limits as OCI resources.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/json.h"
#include "berth/cgroups/resources.h"
#include "berth/supervisor/layout.h"
#include "berth/supervisor/record.h"

namespace berth::supervisor {

/// config.json for the container: its own init as the process on a
/// terminal, the usual namespaces, the record's limits, cgroup under the
/// layout's parent. For INIT="app", `app` is the image's process
/// ({"args","env","cwd","uid","gid"}, see Layout::app_process) instead.
json::Value make_spec(const Record& r, const Layout& l, const json::Value* app = nullptr);

/// The record's limits as cgroup resources (memory, swap, CPU
/// quota/weight/cpuset, pids): what the bundle's linux.resources holds and
/// what `set` writes to a running container's cgroup.
cgroups::Resources resources_of(const Record& r);

/// The fields resources_of sets, as an OCI linux.resources object (the
/// bundle's config.json); the runtime's parse_resources reads it back.
json::Value resources_json(const cgroups::Resources& res);

/// A CPU list ("0-3,8") as CPU numbers, ascending; nullopt when malformed.
std::optional<std::vector<unsigned>> parse_cpu_list(std::string_view s);
/// CPU numbers as a list, ranges joined ("0,2-3").
std::string format_cpu_list(std::vector<unsigned> cpus);

/// Where a container of `want` CPUs that names no cpuset runs, as Incus
/// pins limits.cpu: the `want` CPUs of `online` that the fewest running
/// containers are pinned to (`use`: CPU -> containers; lowest number on a
/// tie), so `nproc` inside says `want`. "" when `want` is 0 or covers every
/// online CPU (no pinning).
std::string pick_cpus(unsigned want, const std::vector<unsigned>& online, const std::map<unsigned, unsigned>& use);

/// cgroup v2 cpu.weight (1..10000) to v1 cpu.shares (2..262144), the
/// inverse of the conversion the cgroups library applies on v2.
uint64_t weight_to_shares(uint32_t weight);

/// The signal that asks an init of this kind to halt (an app: SIGTERM).
int halt_signal(InitKind k);

/// The container's root as the host sees it: its disk's overlay (a
/// TEMPLATE container) or the directory copied at create.
std::string guest_root(const Record& r, const Layout& l);

/// How a system container's init ended when its guest asked: reboot(2) in
/// a pid namespace ends the namespace's init with SIGHUP for a restart and
/// SIGINT for a power-off or halt. An app container's signals are its own.
enum class PowerExit { none, reboot, poweroff };
PowerExit power_exit(InitKind k, const json::Value& exit);

}  // namespace berth::supervisor
