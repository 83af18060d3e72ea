// node_lifecycle.cpp — the verbs that make, run and remove containers:
// create, start, stop (one or all), restart, suspend, resume, destroy and
// exec.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "berth/base/command.h"
#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/images/disk.h"
#include "berth/supervisor/bundle.h"
#include "berth/supervisor/exec.h"
#include "berth/supervisor/idshift.h"
#include "berth/supervisor/node_service.h"
#include "berth/supervisor/subid.h"
#include "guest_files.h"
#include "node_limits.h"

namespace berth::supervisor {

using namespace std::chrono_literals;

namespace {

// Runs `cp -a SRC/. DST`: preserves owners, modes, links and xattrs, and
// reflinks where the file system can. Spawned (run_command), never a fork
// of the threaded daemon.
Status copy_tree(const std::string& src, const std::string& dst) {
  BERTH_TRY_CTX(run_command({"cp", "-a", "--reflink=auto", src + "/.", dst}), "copy " + src + " to " + dst);
  return ok();
}

// A fresh boot id for the guest's next boot: nothing to keep past the boot,
// so no sync.
Status write_boot_id(const std::string& path) {
  UniqueFd f(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0444));
  std::string id = new_boot_id();
  if (!f || ::write(f.get(), id.data(), id.size()) != static_cast<ssize_t>(id.size()))
    return Error::os("write " + path);
  return ok();
}

}  // namespace

Result<std::vector<std::string>> NodeService::stop_all(bool force, std::optional<int> timeout) {
  // Highest boot order first; within one order all at once (a guest's
  // halt takes seconds, mostly waiting), by at most 128 threads.
  std::map<uint32_t, std::vector<std::string>, std::greater<>> groups;
  {
    std::lock_guard lock(mu_);
    for (const Entry* e : reg_.all())
      if (e->state != State::stopped) groups[e->record.boot_order].push_back(e->record.name);
  }
  std::vector<std::string> stopped;
  std::vector<std::pair<std::string, std::string>> failed;  // name, error
  std::mutex out_mu;
  for (auto& group : groups) {
    // A named reference, not a binding: the workers' lambda captures it.
    const std::vector<std::string>& names = group.second;
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k; (k = next++) < names.size();) {
        auto st = stop(names[k], force, timeout);
        std::lock_guard l(out_mu);
        if (st || st.error().code() == EALREADY) stopped.push_back(names[k]);
        else failed.emplace_back(names[k], st.error().what());
      }
    };
    std::vector<std::thread> threads;
    for (size_t i = 0; i < std::min<size_t>(names.size(), 128); ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
  }
  if (failed.empty()) return stopped;
  std::string names;
  for (const auto& [n, why] : failed) names += (names.empty() ? "" : ", ") + n + " (" + why + ")";
  return Error(EIO, "stop --all: " + std::to_string(failed.size()) + " of " +
                        std::to_string(failed.size() + stopped.size()) + " failed: " + names);
}

Result<uint32_t> NodeService::free_id_range() const {
  // Root's ranges in /etc/subuid and /etc/subgid when they give root any;
  // else from 2^24 up (above the ids a host hands out), clear of the
  // ranges they give other users. A missing file gives no ranges.
  std::vector<uint32_t> used;
  for (const Entry* e : reg_.all())
    if (e->record.idmap_base) used.push_back(*e->record.idmap_base);
  SubIds ids[2];
  const std::string* files[2] = {&o_.subuid, &o_.subgid};
  for (int i = 0; i < 2; ++i) {
    auto text = fs::read_file(*files[i]);
    if (!text && text.error().code() != ENOENT) return std::move(text).error().wrap("id range");
    if (text) ids[i] = parse_subids(*text, "root", "0");
  }
  auto b = pick_id_range(ids[0], ids[1], used, uint64_t{1} << 24, kIdRange);
  if (!b) {
    if (!ids[0].own.empty() || !ids[1].own.empty())
      return Error(ENOSPC, "no free range of 65536 ids left in root's ranges of " + o_.subuid + " and " + o_.subgid);
    return Error(ENOSPC, "no free range of 65536 ids left");
  }
  return *b;
}

Result<Record> NodeService::check_create(const CreateRequest& req) {
  if (req.find("idmap_base")) return Error::msg("idmap_base: chosen by berthd, not settable");
  if (req.find("cluster")) return Error::msg("cluster: set by berthd's cluster agent, not settable");
  GuestAccess access = BERTH_TRY(guest_access(req.ssh_key, req.root_password));
  Record r;
  for (const FieldChange& f : req.fields) BERTH_TRY(apply_field(r, f, ""));
  r.ssh_keys = access.ssh_keys;
  r.root_hash = access.root_hash;
  if (r.name.empty()) return Error::msg("name: missing");
  if (r.rootfs_source.empty() == r.template_tag.empty())
    return Error::msg("template: expected a template (an image tag) or rootfs (a directory), one of them");
  if (!r.template_tag.empty()) BERTH_TRY(check_template(r, req.find("init") != nullptr));
  else if (r.disk) return Error::msg("disk: a quota needs a template (a --rootfs copy has no disk)");
  else if (r.init == InitKind::app) return Error::msg("init: app runs an image's entrypoint and needs a template");
  else if (!fs::exists(fs::join(r.rootfs_source, "sbin/init")))
    return Error(ENOENT, "rootfs: " + r.rootfs_source + " has no sbin/init");
  // Known only now: a template without the init label makes an app container.
  if (!access.empty() && r.init == InitKind::app)
    return Error::msg(std::string(access.ssh_keys.empty() ? "root_password" : "ssh_key") +
                      ": an app container runs its image's process, with no logins to give");
  BERTH_TRY(check_node_limits(r));
  BERTH_TRY(net_->check(r, records()));
  std::lock_guard lock(mu_);
  if (reg_.find(r.name)) return Error(EEXIST, "name: container " + r.name + " already exists");
  return r;
}

Result<ContainerStatus> NodeService::create(const Record& req) {
  Record r = req;
  {
    std::lock_guard lock(mu_);
    if (!r.privileged) r.idmap_base = BERTH_TRY(free_id_range());
    BERTH_TRY(net_->resolve(r, records_locked()));  // addresses chosen under the lock: never twice
    BERTH_TRY(reg_.add(r));
    (void)reg_.acquire(r.name);
  }
  const Layout& l = o_.layout;
  std::string dir = l.container_dir(r.name);
  bool made = false;
  Defer undo([&] {
    if (made) (void)images::destroy_disk(l.disk(r.name)), (void)fs::remove_tree(dir);
    std::lock_guard lock(mu_);
    reg_.remove(r.name);
  });
  // 0711: an unprivileged container's root must traverse it to its rootfs.
  if (::mkdir(dir.c_str(), 0711) < 0) return Error::os("mkdir " + dir);
  made = true;
  if (!r.template_tag.empty()) {
    BERTH_TRY(make_disk(r));  // shifted into the id range as it is unpacked
    if (r.init == InitKind::app) BERTH_TRY(write_app_process(r));
  } else {
    BERTH_TRY(fs::mkdir_p(l.rootfs(r.name), 0755));
    BERTH_TRY(copy_tree(r.rootfs_source, l.rootfs(r.name)));
    if (r.idmap_base) BERTH_TRY_CTX(shift_ownership(l.rootfs(r.name), *r.idmap_base), "rootfs");
  }
  if (!r.ssh_keys.empty() || !r.root_hash.empty())
    BERTH_TRY(save_pending_access(l.access(r.name), GuestAccess{r.ssh_keys, r.root_hash}));
  BERTH_TRY(fs::write_file_atomic(l.config(r.name), format_record(r), 0644));  // last: the record makes it exist
  undo.dismiss();
  {
    std::lock_guard lock(mu_);
    reg_.release(r.name);
  }
  events_.publish("created", r.name);
  return show(r.name);
}

Result<ContainerStatus> NodeService::start(const std::string& name) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  {
    std::lock_guard lock(mu_);
    if (Entry* e = reg_.find(name)) e->restarts = 0;
  }
  BERTH_TRY(start_locked_out(name));
  return show(name);
}

Status NodeService::start_locked_out(const std::string& name) {
  const Layout& l = o_.layout;
  Record r;
  {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    if (e->state != State::stopped) return Error(EALREADY, "container " + name + " is " + state_name(e->state));
    e->state = State::starting;
    e->stop_requested = false;
    r = e->record;
    r.cpuset = cpus_for_locked(r);
  }
  auto failed = [&](Error err) -> Status {
    {
      std::lock_guard lock(mu_);
      if (Entry* e = reg_.find(name)) e->state = State::stopped;
      changed_.notify_all();
    }
    json::Value extra = json::Value::object();
    extra.set("error", err.what());
    events_.publish("start-failed", name, std::move(extra));
    (void)net_->detach(name);
    unmount_root(name);
    proc_views_.release(name);
    return std::move(err).wrap("start " + name);
  };
  if (auto st = mount_root(r); !st) return failed(std::move(st).error());
  if (auto st = fs::mkdir_p(l.bundle(name), 0700); !st) return failed(std::move(st).error());
  json::Value app;
  if (r.init == InitKind::app) {
    auto text = fs::read_file(l.app_process(name));
    auto v = text ? json::parse(*text) : Result<json::Value>(text.error());
    if (!v) return failed(std::move(v).error().wrap("app process"));
    app = std::move(*v);
  }
  // What a crash left attached goes first; the bundle's hook attaches anew.
  if (auto st = net_->detach(name); !st) return failed(std::move(st).error());
  std::string root = guest_root(r, l);
  auto guest_config = net_->write_guest_files(root, r);
  if (!guest_config) return failed(std::move(guest_config).error());
  if (auto st = apply_pending_access(name, root, r); !st) return failed(std::move(st).error());
  if (r.init == InitKind::systemd)
    if (auto st = write_boot_id(l.boot_id(name)); !st) return failed(std::move(st).error());
  json::Value spec_doc = make_spec(r, l, app.is_null() ? nullptr : &app);
  if (std::string views = proc_views_.acquire(name); !views.empty()) add_proc_views(spec_doc, views);
  if (auto st = net_->add_hook(spec_doc, r, *guest_config); !st) return failed(std::move(st).error());
  auto spec = json::dump(spec_doc, true) + "\n";
  if (auto st = fs::write_file_atomic(fs::join(l.bundle(name), "config.json"), spec, 0600); !st)
    return failed(std::move(st).error());
  if (fs::exists(fs::join(l.runtime_root(), name))) (void)runtime::remove(g_, name, true);
  ::unlink(l.exit_file(name).c_str());
  if (auto st = launch_monitor(o_.monitor_binary, l, name, 60); !st) return failed(std::move(st).error());
  auto m = connect_monitor(l, name);
  if (!m) return failed(std::move(m).error());
  adopt(name, m->first, std::move(m->second));
  json::Value extra = json::Value::object();
  extra.set("init_pid", m->first.init_pid);
  events_.publish("started", name, std::move(extra));
  return ok();
}

Result<ContainerStatus> NodeService::stop(const std::string& name, bool force, std::optional<int> timeout) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  BERTH_TRY(stop_locked_out(name, force, timeout));
  return show(name);
}

Status NodeService::stop_locked_out(const std::string& name, bool force, std::optional<int> timeout) {
  InitKind kind;
  int limit;
  bool suspended;
  {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    if (e->state == State::stopped) return Error(EALREADY, "container " + name + " is not running");
    suspended = e->state == State::suspended;
    e->state = State::stopping;
    e->stop_requested = true;
    kind = e->record.init;
    limit = force ? 0 : timeout.value_or(e->record.stop_timeout);
  }
  events_.publish("stopping", name);
  if (suspended) (void)runtime::resume(g_, name);  // a frozen init cannot take a signal
  if (limit > 0) (void)runtime::kill(g_, name, halt_signal(kind), false);
  if (!wait_state(name, State::stopped, std::chrono::seconds(limit))) {
    log::warn("stop " + name + ": still running after " + std::to_string(limit) + "s, killing it");
    (void)runtime::kill(g_, name, SIGKILL, true);
  }
  if (!wait_state(name, State::stopped, 10s))
    return Error(ETIMEDOUT, "stop " + name + ": the monitor did not report an exit");
  if (fs::exists(fs::join(o_.layout.runtime_root(), name))) (void)runtime::remove(g_, name, true);
  unmount_root(name);
  if (auto st = net_->detach(name); !st) log::error("stop " + name + ": " + st.error().what());
  return ok();
}

Status NodeService::apply_pending_access(const std::string& name, const std::string& root, const Record& r) {
  std::string file = o_.layout.access(name);
  GuestAccess a = BERTH_TRY_CTX(load_pending_access(file), "access of " + name);
  if (a.empty()) return ok();
  BERTH_TRY_CTX(apply_guest_access(root, a, r.idmap_base.value_or(0)), "access of " + name);
  if (::unlink(file.c_str()) < 0 && errno != ENOENT) return Error::os("remove " + file);
  return ok();
}

Result<ContainerStatus> NodeService::restart(const std::string& name) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  auto st = stop_locked_out(name, false, std::nullopt);
  if (!st && st.error().code() != EALREADY) return std::move(st).error();
  BERTH_TRY(start_locked_out(name));
  return show(name);
}

Result<ContainerStatus> NodeService::suspend(const std::string& name) { return freeze(name, true); }

Result<ContainerStatus> NodeService::resume(const std::string& name) { return freeze(name, false); }

Result<ContainerStatus> NodeService::freeze(const std::string& name, bool frozen) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  State from = frozen ? State::running : State::suspended, to = frozen ? State::suspended : State::running;
  {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    if (e->state != from) return Error(EALREADY, "container " + name + " is " + state_name(e->state));
  }
  auto st = frozen ? runtime::pause(g_, name) : runtime::resume(g_, name);
  if (!st) return std::move(st).error().wrap((frozen ? "suspend " : "resume ") + name);
  {
    std::lock_guard lock(mu_);
    if (Entry* e = reg_.find(name)) e->state = to;
  }
  events_.publish(frozen ? "suspended" : "resumed", name);
  return show(name);
}

Status NodeService::destroy(const std::string& name) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  bool running;
  {
    std::lock_guard lock(mu_);
    running = BERTH_TRY(reg_.get(name))->state != State::stopped;
  }
  if (running) BERTH_TRY(stop_locked_out(name, true, std::nullopt));
  const Layout& l = o_.layout;
  if (fs::exists(fs::join(l.runtime_root(), name))) (void)runtime::remove(g_, name, true);
  BERTH_TRY(fs::remove_tree(l.monitor_dir(name)));
  // The config goes first: a crash halfway leaves a directory without a
  // record, which the next start removes.
  if (::unlink(l.config(name).c_str()) < 0 && errno != ENOENT) return Error::os("unlink " + l.config(name));
  BERTH_TRY_CTX(images::destroy_disk(l.disk(name)), "destroy " + name);
  BERTH_TRY(fs::remove_tree(l.container_dir(name)));
  {
    std::lock_guard lock(mu_);
    reg_.remove(name);
  }
  events_.publish("destroyed", name);
  return ok();
}

Result<json::Value> NodeService::exec(const std::string& name, const std::vector<std::string>& args,
                                      std::optional<int> timeout) {
  {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    if (e->state != State::running) return Error(EALREADY, "container " + name + " is " + state_name(e->state));
  }
  return exec_collect(o_.monitor_binary, g_, o_.layout.bundle(name), name, args, timeout);
}

}  // namespace berth::supervisor
