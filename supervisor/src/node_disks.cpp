// node_disks.cpp — the node's template containers: disks with quotas made
// from the image store, mounted for a start and unmounted after the exit,
// resized, snapshotted, rolled back and committed (the images library).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "berth/base/log.h"
#include "berth/images/disk.h"
#include "berth/images/image.h"
#include "berth/images/template.h"
#include "berth/supervisor/node_service.h"

namespace berth::supervisor {

using namespace std::chrono_literals;

namespace {

std::optional<images::IdShift> shift_of(const Record& r) {
  if (!r.idmap_base) return std::nullopt;
  return images::IdShift{*r.idmap_base, *r.idmap_base, kIdRange};
}

}  // namespace

Result<const images::Store*> NodeService::store() const {
  if (!store_) return Error(store_.error()).wrap("image store");
  return &*store_;
}

Status NodeService::check_template(Record& r, bool init_given) const {
  const images::Store* s = BERTH_TRY(store());
  auto tag = images::find_tag(*s, r.template_tag);
  if (!tag) return Error(ENOENT, "template: no image " + r.template_tag + " in the node's store");
  r.template_tag = *tag;
  auto image = BERTH_TRY_CTX(images::load_image(*s, *tag), "template");
  if (init_given) return r.init == InitKind::app ? check_app_image(image) : ok();
  for (const auto& [k, v] : image.config.labels)
    if (k == images::kInitLabel) {
      r.init = v == "systemd" ? InitKind::systemd : InitKind::busybox;
      return ok();
    }
  // Not a berth template (an image from a registry): its own process is
  // the container's PID 1.
  r.init = InitKind::app;
  return check_app_image(image);
}

Status NodeService::make_disk(const Record& r) {
  images::DiskOptions opts;
  opts.size_bytes = r.disk.value_or(kDefaultDisk);
  opts.shift = shift_of(r);
  const images::Store* s = BERTH_TRY(store());
  std::string dir = o_.layout.disk(r.name);
  BERTH_TRY_CTX(images::create_disk(*s, r.template_tag, dir, opts), "disk");
  // The images library makes it 0700; an unprivileged container's root
  // must traverse it to its rootfs.
  if (::chmod(dir.c_str(), 0711) < 0) return Error::os("chmod " + dir);
  return ok();
}

Status NodeService::mount_root(const Record& r) {
  if (r.template_tag.empty()) return ok();
  std::string dir = o_.layout.disk(r.name);
  if (!images::disk_mounted(dir)) {
    // A quota changed while the container ran and could not grow live.
    auto info = BERTH_TRY_CTX(images::read_disk(dir), "disk");
    uint64_t want = r.disk.value_or(kDefaultDisk);
    if (info.size_bytes != want) BERTH_TRY_CTX(images::resize_disk(dir, want), "disk");
  }
  BERTH_TRY_CTX(images::mount_disk(dir), "disk");
  return ok();
}

void NodeService::unmount_root(const std::string& name) {
  std::string dir = o_.layout.disk(name);
  if (!fs::exists(dir)) return;
  // The init is reaped, but the kernel frees the container's mount
  // namespace (and with it the last reference to the overlay) only after
  // its other processes are gone too: EBUSY for a moment is expected.
  for (int i = 0;; ++i) {
    auto st = images::unmount_disk(dir);
    if (st) return;
    if (st.error().code() != EBUSY || i == 100) return log::error("unmount disk of " + name + ": " + st.error().what());
    std::this_thread::sleep_for(50ms);
  }
}

Result<std::pair<Record, bool>> NodeService::disk_entry(const std::string& name) {
  std::lock_guard lock(mu_);
  Entry* e = BERTH_TRY(reg_.get(name));
  if (e->record.template_tag.empty())
    return Error::msg("container " + name + " has a copied root (--rootfs), not a disk: no snapshots, commit or quota");
  return std::pair{e->record, e->state != State::stopped};
}

Result<bool> NodeService::resize_root(const Record& old_r, const Record& new_r, bool running) {
  if (new_r.disk == old_r.disk) return true;
  if (new_r.template_tag.empty()) return Error::msg("disk: container " + new_r.name + " has no disk (made with --rootfs)");
  uint64_t from = old_r.disk.value_or(kDefaultDisk), to = new_r.disk.value_or(kDefaultDisk);
  if (running && to < from) return Error(EBUSY, "disk: shrinking needs the container stopped");
  auto st = images::resize_disk(o_.layout.disk(new_r.name), to);
  // Online growth needs CAP_SYS_RESOURCE, which a confined berthd may
  // lack: the new size is then applied at the next start, offline.
  if (!st && running && st.error().code() == EPERM) return false;
  if (!st) return std::move(st).error().wrap("disk");
  return true;
}

Result<json::Value> NodeService::snapshot(const std::string& name, const std::string& snap) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  BERTH_TRY(disk_entry(name));
  BERTH_TRY_CTX(images::snapshot_disk(o_.layout.disk(name), snap), "snapshot " + name);
  json::Value extra = json::Value::object();
  extra.set("snapshot", snap);
  events_.publish("snapshot", name, extra);
  return extra;
}

Result<json::Value> NodeService::rollback(const std::string& name, const std::string& snap) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  auto [r, running] = BERTH_TRY(disk_entry(name));
  if (running) return Error(EALREADY, "container " + name + " is running: stop it before a rollback");
  unmount_root(name);
  BERTH_TRY_CTX(images::rollback_disk(o_.layout.disk(name), snap), "rollback " + name);
  json::Value extra = json::Value::object();
  extra.set("snapshot", snap);
  events_.publish("rolled-back", name, extra);
  return extra;
}

Result<json::Value> NodeService::snapshots(const std::string& name) {
  BERTH_TRY(disk_entry(name));
  auto list = BERTH_TRY(images::list_snapshots(o_.layout.disk(name)));
  json::Value a = json::Value::array();
  for (const auto& s : list) {
    json::Value o = json::Value::object();
    o.set("name", s.name);
    o.set("created", s.created);
    o.set("size", s.size_bytes);
    a.push_back(std::move(o));
  }
  return a;
}

Result<json::Value> NodeService::commit(const std::string& name, const std::string& tag) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  auto [r, running] = BERTH_TRY(disk_entry(name));
  if (running) return Error(EALREADY, "container " + name + " is running: stop it for a consistent commit");
  const images::Store* s = BERTH_TRY(store());
  // The disk's upper directory lives inside its ext4 image: mounted for the commit.
  BERTH_TRY(mount_root(r));
  auto d = images::commit_disk(*s, o_.layout.disk(name), tag);
  unmount_root(name);
  if (!d) return std::move(d).error().wrap("commit " + name);
  json::Value o = json::Value::object();
  o.set("tag", tag);
  o.set("digest", d->digest.str());
  events_.publish("committed", name, o);
  return o;
}

Result<DiskExport> NodeService::export_disk(const std::string& name, const std::string& cluster) {
  auto [r, running] = BERTH_TRY(disk_entry(name));
  if (!cluster.empty() && r.cluster != cluster)
    return Error(EINVAL, "export " + name + ": it is not cluster container " + cluster);
  if (running) {
    // Stopped now, or by the operation under way (the node handing the
    // container off stops it too).
    auto st = stop(name, false, std::nullopt);
    if (!st && st.error().code() == EBUSY && !wait_state(name, State::stopped, 60s))
      return Error(EBUSY, "export " + name + ": it did not stop within 60 s");
    if (!st && st.error().code() != EALREADY && st.error().code() != EBUSY)
      return std::move(st).error().wrap("export " + name);
  }
  Claim c(*this, name);
  for (int i = 0;; ++i) {
    auto st = c.take();
    if (st) break;
    if (st.error().code() != EBUSY || i == 50) return std::move(st).error().wrap("export " + name);
    std::this_thread::sleep_for(100ms);  // the stop's own claim is being released
  }
  if (BERTH_TRY(disk_entry(name)).second) return Error(EBUSY, "export " + name + ": it was started again");
  unmount_root(name);
  std::string dir = o_.layout.disk(name);
  UniqueFd f(::open(o_.layout.container_dir(name).c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!f) return Error::os("export " + name + ": temp file in " + o_.layout.container_dir(name));
  auto stats = BERTH_TRY_CTX(images::export_disk_changes(dir, f.get()), "export " + name);
  images::DiskInfo info = BERTH_TRY_CTX(images::read_disk(dir), "export " + name);
  DiskExport x;
  off_t size = ::lseek(f.get(), 0, SEEK_CUR);
  if (size < 0 || ::lseek(f.get(), 0, SEEK_SET) < 0) return Error::os("export " + name + ": seek");
  x.file = std::move(f);
  x.size = static_cast<uint64_t>(size);
  x.image = info.image;
  for (const auto& d : info.diff_ids) x.layers.push_back(d.str());
  x.diff_id = stats.diff_id.str();
  json::Value o = json::Value::object();
  o.set("bytes", x.size);
  o.set("entries", stats.entries);
  events_.publish("exported", name, o);
  return x;
}

Status NodeService::import_disk(const std::string& name, int fd, const std::string& image,
                                const std::vector<std::string>& layers) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  auto [r, running] = BERTH_TRY(disk_entry(name));
  if (running) return Error(EBUSY, "import into " + name + ": it is running");
  unmount_root(name);
  std::string dir = o_.layout.disk(name);
  images::DiskInfo info = BERTH_TRY_CTX(images::read_disk(dir), "import into " + name);
  std::vector<std::string> here;
  for (const auto& d : info.diff_ids) here.push_back(d.str());
  json::Value o = json::Value::object();
  if (here != layers) {
    // The same template built on each node (its layers' timestamps
    // differ) is the same OS template, as Virtuozzo's migrations take it;
    // another image is not.
    if (image != info.image || here.size() != layers.size())
      return Error(EINVAL, "import into " + name + ": the source disk was made from " + image + " (" +
                               std::to_string(layers.size()) + " layers), not from " + info.image + " as here (" +
                               std::to_string(here.size()) + " layers)");
    log::warn("import into " + name + ": " + image + " here has other layers than the source's: its changes apply over this node's build");
    o.set("note", "the template's layers differ from the source node's");
  }
  auto stats = BERTH_TRY_CTX(images::import_disk_changes(dir, fd), "import into " + name);
  o.set("bytes", stats.bytes);
  o.set("entries", stats.entries);
  events_.publish("imported", name, o);
  return ok();
}

}  // namespace berth::supervisor
