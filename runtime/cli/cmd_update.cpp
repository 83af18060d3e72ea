// cmd_update.cpp — `update`: new resource limits from JSON or flags.
#include <unistd.h>

#include "args.h"
#include "berth/base/fs.h"
#include "commands.h"

namespace berth::cli {
namespace {

Result<int64_t> parse_num(const std::string& s, const char* flag) {
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end) return Error::msg(std::string("--") + flag + ": expected a number, got " + s);
  return static_cast<int64_t>(v);
}

}  // namespace

Result<int> cmd_update(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(
      argv, {Flag::text({"resources", "r"}), Flag::text({"memory"}), Flag::text({"memory-reservation"}),
             Flag::text({"memory-swap"}), Flag::text({"kernel-memory"}), Flag::text({"kernel-memory-tcp"}),
             Flag::text({"cpu-shares"}), Flag::text({"cpu-quota"}), Flag::text({"cpu-period"}),
             Flag::text({"cpu-burst"}), Flag::text({"cpu-rt-period"}), Flag::text({"cpu-rt-runtime"}),
             Flag::text({"cpuset-cpus"}), Flag::text({"cpuset-mems"}), Flag::text({"pids-limit"}),
             Flag::text({"blkio-weight"}), Flag::text({"l3-cache-schema"}), Flag::text({"mem-bw-schema"})}));
  std::string id = BERTH_TRY(one_id(a.positional(), "update"));
  cgroups::Resources r;
  if (a.has("resources")) {
    std::string src = a.get("resources");
    std::string text = src == "-" ? BERTH_TRY(fs::read_fd(0, "stdin")) : BERTH_TRY(fs::read_file(src));
    auto doc = BERTH_TRY_CTX(json::parse(text), "--resources");
    r = BERTH_TRY(cgroups::parse_resources(doc, "resources"));
  }
  // Kernel memory limits are gone from cgroup v2 and deprecated on v1
  // (runc 1.1 ignores them there): refused by name on every host.
  for (const char* flag : {"kernel-memory", "kernel-memory-tcp"})
    if (a.has(flag))
      return Error::msg(std::string("update: --") + flag + ": kernel memory limits are not supported by this runtime");
  if (a.has("l3-cache-schema") || a.has("mem-bw-schema"))
    return Error::msg("update: Intel RDT is not supported by this runtime");
  if (a.has("memory")) r.memory.limit = BERTH_TRY(parse_num(a.get("memory"), "memory"));
  if (a.has("memory-reservation")) r.memory.reservation = BERTH_TRY(parse_num(a.get("memory-reservation"), "memory-reservation"));
  if (a.has("memory-swap")) r.memory.swap = BERTH_TRY(parse_num(a.get("memory-swap"), "memory-swap"));
  if (a.has("cpu-shares")) r.cpu.shares = static_cast<uint64_t>(BERTH_TRY(parse_num(a.get("cpu-shares"), "cpu-shares")));
  if (a.has("cpu-quota")) r.cpu.quota = BERTH_TRY(parse_num(a.get("cpu-quota"), "cpu-quota"));
  if (a.has("cpu-period")) r.cpu.period = static_cast<uint64_t>(BERTH_TRY(parse_num(a.get("cpu-period"), "cpu-period")));
  if (a.has("cpu-burst")) r.cpu.burst = static_cast<uint64_t>(BERTH_TRY(parse_num(a.get("cpu-burst"), "cpu-burst")));
  if (a.has("cpu-rt-period")) r.cpu.realtime_period = static_cast<uint64_t>(BERTH_TRY(parse_num(a.get("cpu-rt-period"), "cpu-rt-period")));
  if (a.has("cpu-rt-runtime")) r.cpu.realtime_runtime = BERTH_TRY(parse_num(a.get("cpu-rt-runtime"), "cpu-rt-runtime"));
  if (a.has("cpuset-cpus")) r.cpu.cpus = a.get("cpuset-cpus");
  if (a.has("cpuset-mems")) r.cpu.mems = a.get("cpuset-mems");
  if (a.has("pids-limit")) r.pids.limit = BERTH_TRY(parse_num(a.get("pids-limit"), "pids-limit"));
  if (a.has("blkio-weight")) r.block_io.weight = static_cast<uint16_t>(BERTH_TRY(parse_num(a.get("blkio-weight"), "blkio-weight")));
  BERTH_TRY(runtime::update(g, id, r));
  return 0;
}

}  // namespace berth::cli
