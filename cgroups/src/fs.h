// fs.h — small cgroupfs file helpers shared by the v1 and v2 managers.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/cgroups/translate.h"

namespace berth::cgroups::fs {

/// Whole-file read; errors "read <path>".
Result<std::string> read_file(const std::string& path);
/// Writes `value` with one write(2) to an existing file (no O_CREAT: cgroupfs
/// files are made by the kernel); errors "write <path>".
Status write_file(const std::string& path, const std::string& value);
bool exists(const std::string& path);
bool is_dir(const std::string& path);
/// mkdir -p; `on_new` runs for each directory it made, parents first.
Status mkdir_p(const std::string& path, const std::function<Status(const std::string&)>& on_new);
/// Full paths of the directories directly below `path` (none if missing).
Result<std::vector<std::string>> subdirs(const std::string& path);
/// Removes `path` and every directory below it, children first, retrying
/// EBUSY briefly (exiting tasks leave the cgroup asynchronously).
/// A missing `path` is success.
Status rmdir_tree(const std::string& path);

/// Applies writes in order under `dir`. A write failing with EINVAL or EBUSY
/// is retried once after the rest of the list (period/quota, burst/quota and
/// memsw/limit pairs can need the other order). Fallback and optional files
/// are handled as Write describes.
Status apply(const std::string& dir, const std::vector<Write>& writes);

/// Parses "key value" lines (cpu.stat, memory.stat, memory.events).
std::vector<std::pair<std::string, uint64_t>> parse_flat_keyed(const std::string& text);
/// Value of one key in flat-keyed text, 0 if absent.
uint64_t keyed(const std::vector<std::pair<std::string, uint64_t>>& kv, std::string_view key);
/// Parses one number, or "max" as UINT64_MAX; 0 for anything else.
uint64_t parse_u64(std::string_view s);
/// Reads a single-number file; nullopt when missing or unreadable.
std::optional<uint64_t> read_u64(const std::string& path);
/// Reads a cgroup.procs file into pids.
Result<std::vector<pid_t>> read_pids(const std::string& path);

/// Appends the pids in `dir`/cgroup.procs and in every cgroup below it.
Status collect_pids(const std::string& dir, std::vector<pid_t>& out);

/// Polls `done` every few milliseconds until it returns true or `timeout`
/// passes; errors from `done` stop the wait.
Result<bool> poll_until(const std::function<Result<bool>()>& done,
                        std::chrono::milliseconds timeout);

}  // namespace berth::cgroups::fs
