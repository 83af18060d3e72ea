// container.h — the runtime library's lifecycle API; each CLI command is a
// thin wrapper over one of these functions.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/cgroups/resources.h"
#include "berth/runtime/spec.h"

namespace berth::runtime {

/// Settings shared by every command (the global flags).
struct Globals {
  std::string root = "/run/berth";  // state directory
  bool systemd_cgroup = false;
  std::string cgroup_root = "/sys/fs/cgroup";
  std::string criu = "criu";  // --criu: the CRIU binary for checkpoint/restore
};

struct CreateOptions {
  std::string id;
  std::string bundle = ".";
  std::string pid_file;
  std::string console_socket;
  /// Instead of --console-socket: an already connected socket the pty
  /// master is sent over (a foreground `run` proxies the terminal itself).
  int console_fd = -1;
  bool no_pivot = false;
  bool no_new_keyring = false;
  int preserve_fds = 0;
  /// A unix socket that receives a pidfd of the container's init.
  std::string pidfd_socket;
  /// `run` in the foreground only: do not become the child subreaper that
  /// reaps the container's orphans (without a pid namespace).
  bool no_subreaper = false;
};

/// The status a container is in right now (derived, never stored).
enum class ContainerStatus { creating, created, running, paused, stopped };
const char* status_name(ContainerStatus s);

/// What `state` prints, and what the state file holds.
struct State {
  std::string oci_version;
  std::string id;
  pid_t pid = 0;
  unsigned long long start_time = 0;  // /proc/<pid>/stat field 22, guards pid reuse
  std::string bundle;
  std::string rootfs;
  std::string created;  // RFC 3339
  std::string owner;
  std::map<std::string, std::string> annotations;
  std::string cgroup_path;  // linux.cgroupsPath as resolved
  json::Value poststop;     // hooks.poststop, kept for delete
  /// hooks.poststart, kept for start (an array, empty when none; null in
  /// the state of a container made before they were kept).
  json::Value poststart;
  bool systemd_cgroup = false;
  ContainerStatus status = ContainerStatus::stopped;  // filled in by load_state
};

/// Validates a container id: non-empty, at most 1024 bytes of [A-Za-z0-9_+.-],
/// not "." or "..".
berth::Status validate_id(const std::string& id);

/// Creates the container: namespaces, cgroup, rootfs, and an init process
/// blocked until start(). Nothing is left behind on failure.
berth::Status create(const Globals& g, const CreateOptions& o);

/// Lets a created container's init exec its process; runs poststart hooks.
berth::Status start(const Globals& g, const std::string& id);

/// create + start; without `detach`, waits for the process, forwarding
/// signals, deletes the container, and returns its exit status.
Result<int> run(const Globals& g, const CreateOptions& o, bool detach, bool keep);

/// Loads a container's state and derives its status.
Result<State> load_state(const Globals& g, const std::string& id);
/// The OCI state document (`state` output).
json::Value state_json(const State& s);

/// Sends `sig` to the init (or to every process with `all`).
berth::Status kill(const Globals& g, const std::string& id, int sig, bool all);

/// Removes a stopped (or, with `force`, any) container and runs poststop hooks.
berth::Status remove(const Globals& g, const std::string& id, bool force);

berth::Status pause(const Globals& g, const std::string& id);
berth::Status resume(const Globals& g, const std::string& id);

/// Every container under the root, with derived status.
Result<std::vector<State>> list(const Globals& g);

/// Host pids of every process in the container.
Result<std::vector<pid_t>> pids(const Globals& g, const std::string& id);

/// Applies new resource limits to a live container.
berth::Status update(const Globals& g, const std::string& id, const cgroups::Resources& r);

/// One `events --stats` document (runc's types/events.go shape).
Result<json::Value> stats_event(const Globals& g, const std::string& id);
/// OOM kill counter of the container's cgroup.
Result<uint64_t> oom_count(const Globals& g, const std::string& id);

struct ExecOptions {
  std::string id;
  Process process;
  std::string console_socket;
  // With a terminal: an already connected socket that receives the pty
  // master (instead of connecting to console_socket); the caller keeps it.
  int console_fd = -1;
  std::string pid_file;
  bool detach = false;
  int preserve_fds = 0;
  /// A unix socket that receives a pidfd of the process once it runs.
  std::string pidfd_socket;
  /// Exec into a paused container too: the process starts on resume.
  bool ignore_paused = false;
  /// runc's --cgroup (cgroup v2): join this existing sub-cgroup of the
  /// container's cgroup, e.g. "init.scope".
  std::string sub_cgroup;
  /// When the container's cgroup has no room for processes (its init, such
  /// as systemd, delegated controllers below it): join this leaf below it,
  /// made if missing, rather than the init's cgroup as runc does. berthd
  /// gives ".berth-exec", as LXC attaches to ".lxc": an exec'd process's
  /// OOM kill then never counts against the guest's init.scope.
  std::string busy_leaf;
};

/// Runs an extra process in a running container; without `detach`, waits
/// and returns its exit status.
Result<int> exec(const Globals& g, const ExecOptions& o);

/// What checkpoint and restore share (runc's flags of the same names).
struct CriuOptions {
  std::string image_path;  // default: ./checkpoint
  std::string work_path;   // default: the image path
  bool tcp_established = false, ext_unix_sk = false, shell_job = false, file_locks = false;
  std::string manage_cgroups_mode;    // soft, full, strict, ignore; empty: criu's default (soft)
  std::vector<std::string> empty_ns;  // namespace names ("network") whose properties are not kept
  bool auto_dedup = false, lazy_pages = false;
};

struct CheckpointOptions {
  std::string id;
  CriuOptions criu;
  std::string parent_path;  // the previous (pre-)dump, relative to the image path or absolute
  bool leave_running = false;
  bool pre_dump = false;
  std::string page_server;  // ADDRESS:PORT
  int status_fd = -1;       // --status-fd: told when the lazy-pages server is ready
};

/// Dumps a running (or paused) container with CRIU into the image path;
/// without leave_running (and unless a pre-dump) the container is then
/// deleted, as runc does.
berth::Status checkpoint(const Globals& g, const CheckpointOptions& o);

struct RestoreOptions {
  CreateOptions create;  // id, bundle, pid_file, console_socket, no_pivot, no_subreaper
  CriuOptions criu;
  bool detach = false;
  std::string lsm_profile;
};

/// Restores a container from a checkpoint as a new running container
/// under `create.id`; without `detach`, waits for its init like `run`,
/// then deletes it and returns its exit status.
Result<int> restore(const Globals& g, const RestoreOptions& o);

/// What this host's CRIU offers, as features annotations: its version
/// ("org.criu.version"), whether it can track memory changes (pre-dump)
/// and serve lazy pages; "org.berth.criu.error" when it cannot be asked.
json::Value criu_annotations(const Globals& g);

/// Parses a signal given as a name ("KILL", "SIGKILL") or number.
Result<int> parse_signal(const std::string& s);

}  // namespace berth::runtime
