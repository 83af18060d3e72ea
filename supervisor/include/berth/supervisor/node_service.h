// node_service.h — the Service of one node: records on disk, the registry,
// monitors (one per running container) through the runtime library.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>

#include "berth/base/fd.h"
#include "berth/images/store.h"
#include "berth/runtime/container.h"
#include "berth/supervisor/events.h"
#include "berth/supervisor/layout.h"
#include "berth/supervisor/monitor_client.h"
#include "berth/supervisor/node_net.h"
#include "berth/supervisor/proc_views.h"
#include "berth/supervisor/registry.h"
#include "berth/supervisor/service.h"

namespace berth::images {
struct Image;
}

namespace berth::supervisor {

/// What the service needs from the event loop that hosts it.
class Host {
public:
  virtual ~Host() = default;
  /// Watches a connected monitor socket (its hello line already read);
  /// calls on_exit(name, exit document) when the monitor reports the
  /// init's exit or hangs up.
  virtual void watch(const std::string& name, UniqueFd conn) = 0;
  /// Runs `fn` on a worker after `delay`.
  virtual void later(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
};

struct NodeOptions {
  Layout layout;
  std::string monitor_binary;  // berth-monitor
  std::string lxcfs = "lxcfs";  // lxcfs for containers' /proc views ("none": without)
  // Root's subordinate ids: unprivileged containers' ranges (subid.h).
  std::string subuid = "/etc/subuid", subgid = "/etc/subgid";
};

class NodeService final : public Service {
public:
  NodeService(NodeOptions o, EventBus& events, Host& host);

  /// Loads every record, re-adopts running containers through their
  /// monitors, cleans what a crash left.
  void reconcile();
  /// Starts the autostart containers that are not running, in boot order
  /// with their delays (blocking: run it on a worker once the API serves).
  void autostart();
  /// autostart() once per boot of the node: the first berthd after a boot
  /// starts them (a marker in the run directory, a tmpfs, says it ran), so
  /// a restart or crash of berthd never starts what an operator stopped.
  void autostart_at_boot();
  /// Called by the host when a watched monitor reports an exit.
  void on_exit(const std::string& name, const json::Value& exit);

  Result<Record> check_create(const CreateRequest& req) override;
  Result<ContainerStatus> create(const Record& r) override;
  std::vector<ContainerStatus> list() override;
  Result<ContainerStatus> show(const std::string& name) override;
  Result<ContainerStatus> start(const std::string& name) override;
  Result<ContainerStatus> stop(const std::string& name, bool force, std::optional<int> timeout) override;
  Result<std::vector<std::string>> stop_all(bool force, std::optional<int> timeout) override;
  std::vector<ContainerStatus> start_autostart() override;
  Result<ContainerStatus> restart(const std::string& name) override;
  Result<ContainerStatus> suspend(const std::string& name) override;
  Result<ContainerStatus> resume(const std::string& name) override;
  Status destroy(const std::string& name) override;
  Result<json::Value> exec(const std::string& name, const std::vector<std::string>& args,
                           std::optional<int> timeout) override;
  Status check_set(const std::string& name, const SetRequest& changes) override;
  Result<SetResult> set(const std::string& name, const SetRequest& changes) override;
  Result<std::string> console_log(const std::string& name) override;
  Result<UniqueFd> console(const std::string& name) override;
  Result<UniqueFd> exec_terminal(const std::string& name, const json::Value& req) override;
  std::string metrics() override;
  Result<json::Value> snapshot(const std::string& name, const std::string& snap) override;
  Result<json::Value> rollback(const std::string& name, const std::string& snap) override;
  Result<json::Value> snapshots(const std::string& name) override;
  Result<json::Value> commit(const std::string& name, const std::string& tag) override;
  Result<DiskExport> export_disk(const std::string& name, const std::string& cluster) override;
  Status import_disk(const std::string& name, int fd, const std::string& image,
                     const std::vector<std::string>& layers) override;
  Result<std::vector<ImageSummary>> images() override;
  Result<json::Value> build_template(const TemplateRequest& req) override;
  Status check_image_transfer(const json::Value& req, bool push) override;
  Result<json::Value> pull_image(const json::Value& req, const ProgressReport& report,
                                 const CancelFlag& cancel) override;
  Result<json::Value> push_image(const json::Value& req, const ProgressReport& report,
                                 const CancelFlag& cancel) override;
  Result<json::Value> inspect_image(const std::string& ref) override;
  Result<json::Value> remove_image(const std::string& ref) override;
  Result<json::Value> prune_images() override;
  Result<json::Value> networks() override;
  Result<json::Value> create_network(const json::Value& body) override;
  Result<json::Value> remove_network(const std::string& name) override;

private:
  /// Holds the entry's busy flag for one operation.
  class Claim;
  Status start_locked_out(const std::string& name);
  Status stop_locked_out(const std::string& name, bool force, std::optional<int> timeout);
  /// set()'s record fields: checked, applied live where they can be (keys
  /// added to `out.live`) or saved for the next start (`out.restart`), then
  /// written.
  Status set_record(const std::string& name, const std::vector<FieldChange>& changes, SetResult& out);
  /// Writes the SSH keys and password waiting in <container>/access.json
  /// into the guest's root, then drops the file.
  Status apply_pending_access(const std::string& name, const std::string& root, const Record& r);
  /// suspend (true) or resume (false): freezes the container's cgroup.
  Result<ContainerStatus> freeze(const std::string& name, bool frozen);
  /// The lowest uid/gid range no record holds (caller holds mu_).
  Result<uint32_t> free_id_range() const;
  void adopt(const std::string& name, Hello h, UniqueFd conn);
  bool wait_state(const std::string& name, State s, std::chrono::milliseconds limit);
  /// An entry as list shows it (the caller holds mu_).
  static ContainerStatus status_of(const Entry& e);
  /// The image store under <state>/images (opened at construction).
  Result<const images::Store*> store() const;
  /// Checks a TEMPLATE request: the tag exists; the init kind follows the
  /// image's org.berth.init label unless the request names one; an image
  /// without the label runs its entrypoint and cmd (INIT="app").
  Status check_template(Record& r, bool init_given) const;
  /// An image without the init label must name a process (entrypoint or
  /// cmd) and a numeric user.
  Status check_app_image(const images::Image& image) const;
  /// Writes the app process (the image's entrypoint, cmd, env, working
  /// directory and user) of an INIT="app" container beside its config.
  Status write_app_process(const Record& r);
  /// Names of the containers made from image tag `tag`.
  std::vector<std::string> image_users(const std::string& tag);
  /// Makes a template container's disk in its directory.
  Status make_disk(const Record& r);
  /// Mounts a template container's disk before its bundle is written.
  Status mount_root(const Record& r);
  /// Unmounts a stopped template container's disk, waiting for the last
  /// user of the container's mount namespace to go.
  void unmount_root(const std::string& name);
  /// The record of a container that must have a disk, and whether it runs.
  Result<std::pair<Record, bool>> disk_entry(const std::string& name);
  /// Resizes the disk when a set changes DISK (grows live, shrinks
  /// stopped); false when a running container's disk grows at its next
  /// start instead.
  Result<bool> resize_root(const Record& old_r, const Record& new_r, bool running);

  NodeOptions o_;
  runtime::Globals g_;
  EventBus& events_;
  Host& host_;
  std::mutex mu_;
  std::condition_variable changed_;
  Registry reg_;
  Result<images::Store> store_{Error::msg("not opened")};
  /// Every record (records_locked: the caller holds mu_).
  std::vector<Record> records();
  std::vector<Record> records_locked() const;
  /// The cpuset `r` runs with: its own, else the CPUs its CPUS count pins
  /// it to (pick_cpus over the other running containers' pins), recorded
  /// in its entry. The caller holds mu_.
  std::string cpus_for_locked(const Record& r);
  /// At reconcile's end: networking of containers that are not running
  /// is cleaned, then the manager repairs (node_networks.cpp).
  void reconcile_net();
  std::unique_ptr<NodeNet> net_;
  ProcViews proc_views_;
};

/// The busy flag of one entry, held for one operation.
class NodeService::Claim {
public:
  Claim(NodeService& s, std::string name) : s_(s), name_(std::move(name)) {}
  Status take() {
    std::lock_guard lock(s_.mu_);
    BERTH_TRY(s_.reg_.acquire(name_));
    held_ = true;
    return ok();
  }
  ~Claim() {
    if (!held_) return;
    std::lock_guard lock(s_.mu_);
    s_.reg_.release(name_);
  }

private:
  NodeService& s_;
  std::string name_;
  bool held_ = false;
};

}  // namespace berth::supervisor
