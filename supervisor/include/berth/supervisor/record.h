// record.h — a system container's record: what berthd keeps on disk per
// container (`<state>/containers/<name>/config`, vzctl-style KEY="value").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::supervisor {

/// What the container's PID 1 is, and so how it is asked to halt: an OS
/// init (/sbin/init), or "app": the image's own entrypoint and cmd.
enum class InitKind { busybox, systemd, app };
enum class RestartPolicy { no, on_failure, always };

/// The least RAM limit a container may have (below it the kernel's own
/// reservations make the init fail before it runs).
inline constexpr uint64_t kMinRam = 4u << 20;

struct Record {
  std::string name;
  std::string hostname;
  std::string rootfs_source;          // a directory copied at create (no disk quota)
  std::string template_tag;           // or: an image store tag the disk is made from
  std::optional<uint64_t> disk;       // disk quota, bytes (template containers; default 10G)
  InitKind init = InitKind::busybox;
  std::optional<uint64_t> ram;        // bytes
  std::optional<uint64_t> swap;       // bytes beyond RAM
  std::optional<uint32_t> cpus;       // CPUs' worth of time
  std::optional<uint32_t> cpu_limit;  // percent of one CPU (150 = 1.5 CPUs)
  std::optional<uint32_t> cpu_weight; // 1..10000
  std::string cpuset;                 // "0-1,3"
  std::optional<uint32_t> pids;       // process limit
  bool autostart = false;
  uint32_t boot_order = 0;            // autostart: lower first; stop-all: higher first
  uint32_t boot_delay = 0;            // seconds to wait after starting this one
  RestartPolicy restart = RestartPolicy::no;
  int stop_timeout = 30;              // seconds before SIGKILL
  // Unprivileged by default: own user namespace mapping 0..65535 inside to
  // idmap_base.. on the host (a range no other container has), rootfs
  // owned by that range. Both are fixed at create.
  bool privileged = false;
  std::optional<uint32_t> idmap_base;
  // Networking (node_net.cpp): one "NETWORK:ADDRESS" per interface (eth0,
  // eth1, ... in order; an entry without an address gets one at create or
  // set), the guest's resolv.conf, a rate limit in bytes/s each way, port
  // forwards.
  std::vector<std::string> nets;
  std::vector<std::string> nameservers;
  std::vector<std::string> searchdomains;
  std::optional<uint64_t> rate;
  std::vector<std::string> ports;  // "tcp:8080:80": node port -> container port, on the first network
  // The cluster container (<env>.<role>.<i>) this one is, when the node's
  // cluster agent made it; such containers are the agent's to converge.
  std::string cluster;
  // The project (tenant) the container belongs to, fixed at create: the
  // clients bound to it see and touch it (access.h).
  std::string project = "default";
  // Given with create: root's SSH keys (authorized_keys lines) and
  // password hash, written into the guest at its first start; never in the
  // record's file.
  std::string ssh_keys, root_hash;
};

/// The disk quota when the record names none.
constexpr uint64_t kDefaultDisk = 10ull << 30;

/// Size of each container's uid/gid range.
constexpr uint32_t kIdRange = 65536;

/// Validates a container name: 1-64 of [A-Za-z0-9-], starting alphanumeric
/// (it becomes a directory, a cgroup and a hostname default).
Status validate_name(const std::string& name);

/// Sets one field from its text form (KEY as in the config file, e.g.
/// "RAM"), validating it; errors name the key and what was expected.
Status set_field(Record& r, const std::string& key, const std::string& value);

/// The config file's text: a banner and one KEY="value" line per field.
std::string format_record(const Record& r);

/// Parses a config file; errors name the line and the key. Unknown keys
/// are refused; NAME and ROOTFS are required.
Result<Record> parse_record(std::string_view text);

/// One record field as a request changes it: its API key (the config
/// key in lower case) and its value as the config file's text ("" clears
/// it, as a null does).
struct FieldChange {
  std::string key, value;
};

/// A field of an API object as its text: `k` must be a field's API key,
/// `val` a string, non-negative number, boolean or null; `where` (with
/// `k`) names it in errors.
Result<FieldChange> json_field(const std::string& k, const json::Value& val, const std::string& where);

/// Sets a field from its text, validating it; errors name `where`.`key`.
Status apply_field(Record& r, const FieldChange& f, const std::string& where);

/// Applies an API object ({"ram": "256M", "cpus": 2, ...}) to a record.
/// Keys are the lower-case config keys; unknown keys are refused, naming
/// them; values may be strings, numbers or booleans.
Status apply_json(Record& r, const json::Value& v, const std::string& where);

/// The record as an API object (the same keys apply_json takes).
json::Value record_json(const Record& r);

/// Fields whose change on a running container waits for a restart.
bool needs_restart(const std::string& key);

/// Parses a size: bytes, or a number with K/M/G/T (powers of 1024).
Result<uint64_t> parse_size(const std::string& s);

const char* init_name(InitKind k);
const char* restart_name(RestartPolicy p);

}  // namespace berth::supervisor
