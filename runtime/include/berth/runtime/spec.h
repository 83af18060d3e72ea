// spec.h — the OCI runtime-spec 1.2 config (Linux), parsed and validated.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/cgroups/resources.h"

namespace berth::runtime {

struct IdMapping {
  uint32_t container_id = 0, host_id = 0, size = 0;
};

struct User {
  uint32_t uid = 0, gid = 0;
  std::optional<uint32_t> umask;
  std::vector<uint32_t> additional_gids;
  std::string username;  // informational only on Linux
};

struct Rlimit {
  int resource = 0;  // RLIMIT_*
  std::string type;  // "RLIMIT_NOFILE"
  uint64_t hard = 0, soft = 0;
};

/// Capability sets as capability numbers (CAP_*).
struct Capabilities {
  std::vector<int> bounding, effective, inheritable, permitted, ambient;
};

struct Scheduler {
  std::string policy;  // SCHED_OTHER ...
  int32_t nice = 0, priority = 0;
  std::vector<std::string> flags;
  uint64_t runtime = 0, deadline = 0, period = 0;
};

struct IoPriority {
  std::string klass;  // IOPRIO_CLASS_RT/BE/IDLE
  int priority = 0;
};

struct Process {
  bool terminal = false;
  std::optional<std::pair<unsigned, unsigned>> console_size;  // height, width
  User user;
  std::vector<std::string> args;
  std::vector<std::string> env;
  std::string cwd = "/";
  std::optional<Capabilities> capabilities;
  std::vector<Rlimit> rlimits;
  bool no_new_privileges = false;
  std::string apparmor_profile;
  std::optional<int> oom_score_adj;
  std::string selinux_label;
  std::optional<Scheduler> scheduler;
  std::optional<IoPriority> io_priority;
  std::vector<int> exec_cpu_affinity_initial;  // unused placeholder for execCPUAffinity
};

struct Mount {
  std::string destination, type, source;
  std::vector<std::string> options;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  // Derived from options:
  unsigned long flags = 0;          // MS_* to set
  unsigned long propagation = 0;    // MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC)
  unsigned long attr_set = 0, attr_clr = 0;  // MOUNT_ATTR_* for recursive "r" options
  std::string data;                 // filesystem-specific options
  bool bind = false, recursive = false, idmap = false;
  bool tmpcopyup = false;
};

struct Namespace {
  int type = 0;      // CLONE_NEW*
  std::string name;  // "pid"
  std::string path;  // join this namespace when set
};

struct Device {
  char type = 'c';  // c, b, u, p
  std::string path;
  int64_t major = 0, minor = 0;
  std::optional<uint32_t> file_mode, uid, gid;
};

struct SeccompArg {
  unsigned index = 0;
  uint64_t value = 0, value_two = 0;
  std::string op;  // SCMP_CMP_*
};

struct SeccompRule {
  std::vector<std::string> names;
  std::string action;  // SCMP_ACT_*
  std::optional<uint32_t> errno_ret;
  std::vector<SeccompArg> args;
};

struct Seccomp {
  std::string default_action;
  std::optional<uint32_t> default_errno_ret;
  std::vector<std::string> architectures;  // SCMP_ARCH_*
  std::vector<std::string> flags;          // SECCOMP_FILTER_FLAG_*
  std::string listener_path, listener_metadata;
  std::vector<SeccompRule> syscalls;
};

struct Hook {
  std::string path;
  std::vector<std::string> args, env;
  std::optional<int> timeout;  // seconds
};

struct Hooks {
  std::vector<Hook> prestart, create_runtime, create_container, start_container, poststart, poststop;
};

struct Linux {
  std::vector<Namespace> namespaces;
  std::vector<IdMapping> uid_mappings, gid_mappings;
  std::vector<Device> devices;
  std::string cgroups_path;
  std::optional<cgroups::Resources> resources;
  std::string rootfs_propagation;
  std::vector<std::string> masked_paths, readonly_paths;
  std::string mount_label;
  std::map<std::string, std::string> sysctl;
  std::optional<Seccomp> seccomp;
  std::optional<std::string> personality;  // LINUX or LINUX32
  std::map<std::string, std::pair<int64_t, uint32_t>> time_offsets;  // monotonic/boottime -> secs, nanosecs
  bool intel_rdt = false;
};

struct Spec {
  std::string oci_version;
  std::string root_path;  // absolute, resolved against the bundle
  bool root_readonly = false;
  std::optional<Process> process;
  std::string hostname, domainname;
  std::vector<Mount> mounts;
  Hooks hooks;
  std::map<std::string, std::string> annotations;
  Linux linux;

  bool has_namespace(int type) const;
  const Namespace* find_namespace(int type) const;
};

/// Parses and validates a config.json text. `bundle` is absolute; relative
/// root.path values are resolved against it. Errors name the JSON field.
Result<Spec> parse_spec(std::string_view text, const std::string& bundle);

/// Parses a runtime-spec Process object (config.json's "process", or an
/// `exec --process` file). `where` prefixes error paths.
Result<Process> parse_process(const json::Value& v, const std::string& where);

/// The default config.json of `berth-runtime spec` (runc's defaults; with
/// rootless: a user namespace mapping the caller's uid/gid, no network ns,
/// bind-mounted sysfs, no cgroup resources). The supervisor builds its
/// system containers' bundles on it.
json::Value default_spec(bool rootless);

/// Capability name ("CAP_SYS_ADMIN") to number, or -1.
int capability_from_name(std::string_view name);
/// Number to name; "" when unknown.
const char* capability_name(int cap);
/// Highest capability the running kernel knows (from /proc/sys/kernel/cap_last_cap).
int last_capability();

/// Parses mount options into flags/propagation/data (pure, table-tested).
Status parse_mount_options(Mount& m, const std::string& where);

}  // namespace berth::runtime
