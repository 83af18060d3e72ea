// service.h — what the API calls: one method per verb. Methods may block
// (mounts, copies, waiting for an init to halt): the API server runs them
// on worker threads, never on its event loop.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/fd.h"
#include "berth/base/json.h"
#include "berth/supervisor/record.h"
#include "berth/supervisor/registry.h"

namespace berth::supervisor {

/// How a long operation tells how far it got: the whole progress document
/// (kept in the operation) and, for a change worth an event (a blob's new
/// state, a note), that change; null for byte counts. Thread-safe.
using ProgressReport = std::function<void(const json::Value& progress, const json::Value& change)>;
/// Set (by a cancelled operation) to stop the work that polls it.
using CancelFlag = std::shared_ptr<std::atomic<bool>>;

/// A template container's disk changes packed for another node.
struct DiskExport {
  UniqueFd file;      // an unlinked temp file, at offset 0
  uint64_t size = 0;  // its bytes (a gzip'd tar)
  std::string image;  // the template tag the disk was made from
  std::vector<std::string> layers;  // that image's diff_ids, bottom first
  std::string diff_id;  // sha256 of the uncompressed tar
};

/// An image in the node's store: its tag ("" for an untagged one), the
/// manifest's digest and size, and its platform ("" when not recorded).
struct ImageSummary {
  std::string tag, digest;
  uint64_t size = 0;
  std::string platform;
};

/// An OS template to build: "busybox", or "debian" with extra `packages`
/// from `suite` (bookworm when empty) of `mirror` (Debian's when empty).
struct TemplateRequest {
  std::string kind, tag;
  std::vector<std::string> packages;
  std::string suite, mirror;
};

/// A container's settings as a create or set request gives them: record
/// fields (API keys, config text, in the request's order) and root's SSH
/// keys and password for the guest as given (the node checks their form
/// and hashes the password).
struct Settings {
  std::vector<FieldChange> fields;
  std::optional<std::string> ssh_key, root_password;
  /// The field of API key `key`, or null.
  const FieldChange* find(std::string_view key) const {
    for (const auto& f : fields)
      if (f.key == key) return &f;
    return nullptr;
  }
  bool empty() const { return fields.empty() && !ssh_key && !root_password; }
};

/// What a create makes: the new container's record fields and root's
/// access for its first start.
using CreateRequest = Settings;
/// What a set changes: record fields, applied live where they can be.
using SetRequest = Settings;

/// What a running container's cgroup has used.
struct Usage {
  uint64_t cpu_ns = 0, memory_bytes = 0, pids = 0;
};

/// A container as the node knows it: its record, its state, and while it
/// runs its processes; show adds what it uses and how it last ended.
struct ContainerStatus {
  Record record;
  State state = State::stopped;
  pid_t init_pid = 0, monitor_pid = 0;  // 0 unless it runs
  time_t started = 0;
  std::vector<std::string> addresses;  // its interfaces' addresses (record.nets)
  std::optional<Usage> usage;          // show of a running container
  json::Value last_exit;               // show: the monitor's exit record (null: none)
};

/// The keys a set applied at once (`live`) and those that wait for the
/// container's next start (`restart`), in the request's order.
struct SetResult {
  std::vector<std::string> live, restart;
};

class Service {
public:
  virtual ~Service() = default;
  /// Checks a create request before anything is made (fast): the record
  /// to create.
  virtual Result<Record> check_create(const CreateRequest& req) = 0;
  virtual Result<ContainerStatus> create(const Record& r) = 0;
  /// Every container (no usage or last exit: those are show's).
  virtual std::vector<ContainerStatus> list() = 0;
  virtual Result<ContainerStatus> show(const std::string& name) = 0;
  /// Boots the container's init and returns when it runs.
  virtual Result<ContainerStatus> start(const std::string& name) = 0;
  /// Asks the init to halt, kills everything after `timeout` seconds (the
  /// record's STOP_TIMEOUT when absent; at once with `force`).
  virtual Result<ContainerStatus> stop(const std::string& name, bool force, std::optional<int> timeout) = 0;
  /// Stops every running container: in parallel within each boot order,
  /// highest first, going on past a failure. The names stopped; an error
  /// naming each that failed when some did.
  virtual Result<std::vector<std::string>> stop_all(bool force, std::optional<int> timeout) = 0;
  /// Starts the stopped containers marked autostart, in boot order; then
  /// every container.
  virtual std::vector<ContainerStatus> start_autostart() = 0;
  virtual Result<ContainerStatus> restart(const std::string& name) = 0;
  virtual Result<ContainerStatus> suspend(const std::string& name) = 0;
  virtual Result<ContainerStatus> resume(const std::string& name) = 0;
  /// Stops the container if needed and removes everything made for it.
  virtual Status destroy(const std::string& name) = 0;
  /// Runs a command inside; {"exit_code","stdout","stderr"}. Past
  /// `timeout` seconds it is killed: exit code 124, "timed_out": true.
  virtual Result<json::Value> exec(const std::string& name, const std::vector<std::string>& args,
                                   std::optional<int> timeout) = 0;
  /// Checks a change (fast), before it is queued.
  virtual Status check_set(const std::string& name, const SetRequest& changes) = 0;
  /// Changes the record; applies what it can live (the limits straight
  /// to the running container's cgroup).
  virtual Result<SetResult> set(const std::string& name, const SetRequest& changes) = 0;
  /// The console log (the current file, at most its last MiB).
  virtual Result<std::string> console_log(const std::string& name) = 0;
  /// A connection to the container's console (through its monitor).
  virtual Result<UniqueFd> console(const std::string& name) = 0;
  /// Starts a command on a pty in a running container ({"args","env",
  /// "rows","cols"}, checked by the API) and returns the connection to its
  /// monitor that carries the session's frames (frames.h).
  virtual Result<UniqueFd> exec_terminal(const std::string& name, const json::Value& req) = 0;
  /// Copies a template container's disk to snapshot `snap` (live: the
  /// file system is frozen for the copy).
  virtual Result<json::Value> snapshot(const std::string& name, const std::string& snap) = 0;
  /// Puts the disk back to snapshot `snap`; the container must be stopped.
  virtual Result<json::Value> rollback(const std::string& name, const std::string& snap) = 0;
  /// [{"name","created","size"}] of a template container's snapshots.
  virtual Result<json::Value> snapshots(const std::string& name) = 0;
  /// Turns the disk's changes into a new image tagged `tag`.
  virtual Result<json::Value> commit(const std::string& name, const std::string& tag) = 0;
  /// Packs a template container's disk changes for a cold migration,
  /// stopping it first (gracefully) when it runs; `cluster`, when not
  /// empty, must be its cluster id (or EINVAL, before anything is done).
  virtual Result<DiskExport> export_disk(const std::string& name, const std::string& cluster) {
    (void)name, (void)cluster;
    return Error(ENOSYS, "export: not supported");
  }
  /// Applies another node's export (`fd`) to a template container made
  /// here and never started. The source disk's `image` and `layers` must
  /// be those of its template here, or the same tag with as many layers
  /// (the template built on each node). On error the disk may hold part
  /// of it: the caller destroys the container.
  virtual Status import_disk(const std::string& name, int fd, const std::string& image,
                             const std::vector<std::string>& layers) {
    (void)name, (void)fd, (void)image, (void)layers;
    return Error(ENOSYS, "import: not supported");
  }
  /// The node's image store.
  virtual Result<std::vector<ImageSummary>> images() = 0;
  /// Builds an OS template into the store as `req.tag`.
  virtual Result<json::Value> build_template(const TemplateRequest& req) = 0;
  /// Checks a pull or push request (reference, platform, credentials)
  /// before it is queued (fast, no I/O).
  virtual Status check_image_transfer(const json::Value& req, bool push) = 0;
  /// Pulls an image from a registry into the store: {"tag","digest",...}.
  /// Setting `cancel` stops the transfers; nothing is tagged (ECANCELED).
  virtual Result<json::Value> pull_image(const json::Value& req, const ProgressReport& report,
                                         const CancelFlag& cancel) = 0;
  /// Pushes a stored image to a registry: {"ref","digest"}; `cancel` as above.
  virtual Result<json::Value> push_image(const json::Value& req, const ProgressReport& report,
                                         const CancelFlag& cancel) = 0;
  /// A stored image: tag, manifest, platform, layers, config, users.
  virtual Result<json::Value> inspect_image(const std::string& ref) = 0;
  /// Untags an image; EBUSY while a container was made from it.
  virtual Result<json::Value> remove_image(const std::string& ref) = 0;
  /// Collects what no tag and no container's disk holds.
  virtual Result<json::Value> prune_images() = 0;
  /// The node's networks, each with the containers naming it.
  virtual Result<json::Value> networks() { return Error(ENOSYS, "networks: not supported"); }
  /// Creates a network ({"name","mode","subnet4",...}); the new network.
  virtual Result<json::Value> create_network(const json::Value&) { return Error(ENOSYS, "networks: not supported"); }
  /// Removes a network no container names.
  virtual Result<json::Value> remove_network(const std::string&) { return Error(ENOSYS, "networks: not supported"); }
  /// Prometheus text exposition of per-container cgroup figures.
  virtual std::string metrics() = 0;
};

}  // namespace berth::supervisor
