// node_service.cpp — the node's Service: each verb checks the registry
// under the lock, does its blocking work without it, and publishes events.
#include "berth/supervisor/node_service.h"

#include <fcntl.h>
#include <sched.h>
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
#include "berth/cgroups/resources.h"
#include "berth/images/disk.h"
#include "berth/net/netlink.h"
#include "berth/supervisor/bundle.h"
#include "berth/supervisor/exec.h"
#include "berth/supervisor/idshift.h"
#include "berth/supervisor/subid.h"
#include "berth/supervisor/unix_socket.h"
#include "guest_files.h"

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
  if (!f || ::write(f.get(), id.data(), id.size()) != static_cast<ssize_t>(id.size())) return Error::os("write " + path);
  return ok();
}

uint64_t node_memory() {
  long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(size) : 0;
}

// The highest CPU number a cpuset names.
long max_cpu(const std::string& cpuset) {
  long best = -1, cur = 0;
  bool in = false;
  for (char c : cpuset) {
    if (c >= '0' && c <= '9') {
      cur = cur * 10 + (c - '0');
      in = true;
    } else {
      if (in) best = std::max(best, cur);
      cur = 0;
      in = false;
    }
  }
  if (in) best = std::max(best, cur);
  return best;
}

// The CPUs berthd may run on (its affinity), which its containers share.
std::vector<unsigned> online_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> out;
  if (::sched_getaffinity(0, sizeof set, &set) == 0)
    for (unsigned c = 0; c < CPU_SETSIZE; ++c)
      if (CPU_ISSET(c, &set)) out.push_back(c);
  return out;
}

// The cpuset a container's bundle was made with ("" none): the pin of a
// container adopted after a restart of berthd.
std::string bundle_cpus(const std::string& bundle) {
  auto text = fs::read_file(fs::join(bundle, "config.json"));
  auto spec = text ? json::parse(*text) : Result<json::Value>(text.error());
  const json::Value* c = spec ? &*spec : nullptr;
  for (const char* k : {"linux", "resources", "cpu", "cpus"}) c = c && c->is_object() ? c->find(k) : nullptr;
  return c && c->is_string() ? c->as_string() : "";
}

Status check_node_limits(const Record& r) {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  uint64_t mem = node_memory();
  if (r.ram && mem && *r.ram > mem)
    return Error::msg("ram: " + std::to_string(*r.ram) + " bytes is more than the node has (" + std::to_string(mem) + ")");
  if (r.cpus && cpus > 0 && *r.cpus > cpus)
    return Error::msg("cpus: " + std::to_string(*r.cpus) + " is more than the node has (" + std::to_string(cpus) + ")");
  if (!r.cpuset.empty() && cpus > 0 && max_cpu(r.cpuset) >= cpus)
    return Error::msg("cpuset: " + r.cpuset + " names a CPU the node does not have (0-" + std::to_string(cpus - 1) + ")");
  return ok();
}

}  // namespace

NodeService::NodeService(NodeOptions o, EventBus& events, Host& host)
    : o_(std::move(o)), events_(events), host_(host), proc_views_(fs::join(o_.layout.run_dir, "lxcfs"), o_.lxcfs) {
  g_.root = o_.layout.runtime_root();
  if (auto st = fs::mkdir_p(o_.layout.state_dir, 0711); !st) store_ = std::move(st).error();
  else store_ = images::Store::open(o_.layout.images());
  if (!store_) log::error("image store " + o_.layout.images() + ": " + store_.error().what());
  // berth-nethook sits next to berth-monitor (installed or in the build tree).
  std::string bin_dir = o_.monitor_binary.substr(0, o_.monitor_binary.rfind('/') + 1);
  net_ = std::make_unique<NodeNet>(o_.layout, bin_dir + "berth-nethook");
}

void NodeService::reconcile() {
  const Layout& l = o_.layout;
  for (const auto& d : {l.containers(), l.runtime_root(), fs::join(l.run_dir, "monitors")})
    if (auto st = fs::mkdir_p(d, 0711); !st) log::error("reconcile: " + st.error().what());
  auto names = fs::list_dir(l.containers());
  if (!names) return log::error("reconcile: " + names.error().what());
  for (const auto& name : *names) {
    if (!fs::exists(l.config(name))) {
      // A create that crashed before its last step (writing the config).
      log::warn("reconcile: removing " + l.container_dir(name) + ", left by an unfinished create");
      (void)fs::remove_tree(l.container_dir(name));
      continue;
    }
    auto text = fs::read_file(l.config(name));
    auto rec = text ? parse_record(*text) : Result<Record>(text.error());
    if (!rec || rec->name != name) {
      log::error("reconcile: " + l.config(name) + ": " + (rec ? "NAME does not match the directory" : rec.error().what()));
      continue;
    }
    {
      std::lock_guard lock(mu_);
      (void)reg_.add(*rec);
    }
    if (auto m = connect_monitor(l, name)) {
      (void)proc_views_.acquire(name);
      // Its CPU pin (cpus_for_locked) is the one its bundle was made with.
      if (std::string pin = rec->cpuset.empty() && rec->cpus ? bundle_cpus(l.bundle(name)) : ""; !pin.empty()) {
        std::lock_guard lock(mu_);
        if (Entry* e = reg_.find(name)) e->pinned = pin;
      }
      adopt(name, m->first, std::move(m->second));
      events_.publish("adopted", name);
      continue;
    }
    // No monitor: whatever the runtime still holds for it has no parent
    // to report its exit and is removed.
    if (fs::exists(fs::join(l.runtime_root(), name))) {
      log::warn("reconcile: " + name + " has runtime state but no monitor; removing it");
      if (auto st = runtime::remove(g_, name, true); !st) log::error("reconcile: " + st.error().what());
    }
    (void)fs::remove_tree(l.monitor_dir(name));
    unmount_root(name);
  }
  reconcile_net();
}

void NodeService::autostart() {
  // Boot order (then name), each followed by its delay.
  std::vector<Record> todo;
  {
    std::lock_guard lock(mu_);
    for (const Entry* e : reg_.all())
      if (e->record.autostart && e->state == State::stopped) todo.push_back(e->record);
  }
  std::stable_sort(todo.begin(), todo.end(), [](const Record& a, const Record& b) { return a.boot_order < b.boot_order; });
  for (const Record& r : todo) {
    if (auto st = start(r.name); !st) log::error("autostart " + r.name + ": " + st.error().what());
    else events_.publish("autostarted", r.name);
    if (r.boot_delay) std::this_thread::sleep_for(std::chrono::seconds(r.boot_delay));
  }
}

void NodeService::autostart_at_boot() {
  std::string marker = fs::join(o_.layout.run_dir, "autostarted");
  if (fs::exists(marker)) {
    log::info("autostart: done since this node booted; a restart of berthd starts nothing");
    return;
  }
  if (auto st = fs::write_file_atomic(marker, log::rfc3339_now() + "\n", 0644); !st)
    log::error("autostart: " + st.error().what());
  autostart();
}

Result<json::Value> NodeService::start_autostart() {
  autostart();
  return list();
}

Result<json::Value> NodeService::stop_all(bool force, std::optional<int> timeout) {
  // Highest boot order first; within one order all at once (a guest's
  // halt takes seconds, mostly waiting), by at most 128 threads.
  std::map<uint32_t, std::vector<std::string>, std::greater<>> groups;
  {
    std::lock_guard lock(mu_);
    for (const Entry* e : reg_.all())
      if (e->state != State::stopped) groups[e->record.boot_order].push_back(e->record.name);
  }
  json::Value stopped = json::Value::array(), failed = json::Value::array();
  std::mutex out_mu;
  for (auto& [order, names] : groups) {
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k; (k = next++) < names.size();) {
        auto st = stop(names[k], force, timeout);
        std::lock_guard l(out_mu);
        if (st || st.error().code() == EALREADY) {
          stopped.push_back(names[k]);
          continue;
        }
        json::Value f = json::Value::object();
        f.set("name", names[k]);
        f.set("error", st.error().what());
        failed.push_back(std::move(f));
      }
    };
    std::vector<std::thread> threads;
    for (size_t i = 0; i < std::min<size_t>(names.size(), 128); ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
  }
  json::Value out = json::Value::object();
  size_t nfailed = failed.as_array().size();
  out.set("stopped", std::move(stopped));
  out.set("failed", std::move(failed));
  if (nfailed) {
    std::string names;
    for (const auto& f : out.find("failed")->as_array())
      names += (names.empty() ? "" : ", ") + f.find("name")->as_string() + " (" + f.find("error")->as_string() + ")";
    return Error(EIO, "stop --all: " + std::to_string(nfailed) + " of " +
                          std::to_string(nfailed + out.find("stopped")->as_array().size()) + " failed: " + names);
  }
  return out;
}

void NodeService::adopt(const std::string& name, Hello h, UniqueFd conn) {
  auto st = runtime::load_state(g_, name);
  {
    std::lock_guard lock(mu_);
    Entry* e = reg_.find(name);
    if (!e) return;
    e->state = st && st->status == runtime::ContainerStatus::paused ? State::suspended : State::running;
    e->init_pid = h.init_pid;
    e->monitor_pid = h.monitor_pid;
    e->started = h.started;
    changed_.notify_all();
  }
  host_.watch(name, std::move(conn));
}

void NodeService::on_exit(const std::string& name, const json::Value& exit) {
  // Before the state changes: a stop returns with the node's lxcfs gone
  // when this was the last container.
  proc_views_.release(name);
  bool restart = false, rebooted = false, lost = exit.is_null();
  PowerExit power = PowerExit::none;
  std::chrono::milliseconds delay{0};
  {
    std::lock_guard lock(mu_);
    Entry* e = reg_.find(name);
    if (!e) return;
    const json::Value* code = exit.find("code");
    if (!lost) power = power_exit(e->record.init, exit);
    bool failed = !lost && power == PowerExit::none && (exit.find("signal") || (code && code->as_int() != 0));
    RestartPolicy p = e->record.restart;
    if (!e->stop_requested && power == PowerExit::reboot) {
      // `reboot` inside: the same container comes back at once, whatever
      // its restart policy, as a server's reboot does.
      restart = true;
      rebooted = true;
    } else if (!e->stop_requested && power == PowerExit::none &&
               (p == RestartPolicy::always || (p == RestartPolicy::on_failure && failed))) {
      restart = true;
      delay = std::chrono::milliseconds(std::min(60000, 1000 << std::min(e->restarts, 6)));
      ++e->restarts;
    }
    e->state = State::stopped;
    e->init_pid = e->monitor_pid = 0;
    changed_.notify_all();
  }
  json::Value extra = json::Value::object();
  extra.set("exit", exit);
  if (power != PowerExit::none) extra.set("reason", power == PowerExit::reboot ? "reboot" : "poweroff");
  events_.publish(lost ? "monitor-lost" : rebooted ? "rebooting" : "stopped", name, std::move(extra));
  if (lost) {
    // The monitor died under a running container: nothing can report that
    // container's exit any more, so it is stopped for good.
    host_.later(0ms, [this, name] { (void)runtime::remove(g_, name, true); });
  }
  if (!restart) {
    // An exit nobody asked for (a crash, a halt from inside): the disk is
    // unmounted here; a stop unmounts it itself, holding the entry.
    host_.later(0ms, [this, name] {
      Claim c(*this, name);
      if (!c.take()) return;
      {
        std::lock_guard lock(mu_);
        Entry* e = reg_.find(name);
        if (!e || e->state != State::stopped) return;
      }
      unmount_root(name);
      if (auto st = net_->detach(name); !st) log::error("stopped " + name + ": " + st.error().what());
    });
  }
  if (restart) {
    host_.later(delay, [this, name] {
      Claim c(*this, name);
      if (!c.take()) return;
      if (auto st = start_locked_out(name); !st) log::error("restart " + name + ": " + st.error().what());
    });
  }
}

bool NodeService::wait_state(const std::string& name, State s, std::chrono::milliseconds limit) {
  std::unique_lock lock(mu_);
  return changed_.wait_for(lock, limit, [&] {
    const Entry* e = reg_.find(name);
    return !e || e->state == s;
  });
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

Result<Record> NodeService::check_create(const json::Value& request) {
  if (request.find("idmap_base")) return Error::msg("idmap_base: chosen by berthd, not settable");
  if (request.find("cluster")) return Error::msg("cluster: set by berthd's cluster agent, not settable");
  json::Value body = request;
  GuestAccess access = BERTH_TRY(take_guest_access(body));
  Record r;
  BERTH_TRY(apply_json(r, body, ""));
  r.ssh_keys = access.ssh_keys;
  r.root_hash = access.root_hash;
  if (r.name.empty()) return Error::msg("name: missing");
  if (r.rootfs_source.empty() == r.template_tag.empty())
    return Error::msg("template: expected a template (an image tag) or rootfs (a directory), one of them");
  if (!r.template_tag.empty()) BERTH_TRY(check_template(r, body.find("init") != nullptr));
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

Result<json::Value> NodeService::create(const Record& req) {
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

std::string NodeService::cpus_for_locked(const Record& r) {
  Entry* self = reg_.find(r.name);
  if (!r.cpuset.empty() || !r.cpus) {
    if (self) self->pinned.clear();
    return r.cpuset;
  }
  std::map<unsigned, unsigned> use;
  for (const Entry* e : reg_.all()) {
    if (e == self || e->state == State::stopped) continue;
    for (unsigned c : parse_cpu_list(e->pinned).value_or(std::vector<unsigned>{})) ++use[c];
  }
  std::string pick = pick_cpus(*r.cpus, online_cpus(), use);
  if (self) self->pinned = pick;
  return pick;
}

json::Value NodeService::entry_json(const Entry& e) {
  json::Value o = json::Value::object();
  o.set("name", e.record.name);
  o.set("state", state_name(e.state));
  if (e.init_pid) {
    o.set("init_pid", e.init_pid);
    o.set("monitor_pid", e.monitor_pid);
    o.set("started", static_cast<int64_t>(e.started));
    o.set("uptime", static_cast<int64_t>(::time(nullptr) - e.started));
  }
  if (!e.record.nets.empty()) o.set("addresses", net_addresses(e.record));
  o.set("config", record_json(e.record));
  return o;
}

json::Value NodeService::list() {
  std::lock_guard lock(mu_);
  json::Value a = json::Value::array();
  for (const Entry* e : reg_.all()) a.push_back(entry_json(*e));
  return a;
}

Result<json::Value> NodeService::show(const std::string& name) {
  json::Value o;
  bool live = false;
  {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    o = entry_json(*e);
    live = e->init_pid != 0;
  }
  if (live) {
    if (auto s = runtime::stats_event(g_, name)) {
      const json::Value* d = s->find("data");
      json::Value r = json::Value::object();
      r.set("cpu_ns", d->find("cpu")->find("usage")->find("total")->as_uint());
      r.set("memory_bytes", d->find("memory")->find("usage")->find("usage")->as_uint());
      r.set("pids", d->find("pids")->find("current")->as_uint());
      o.set("resources", std::move(r));
    }
  }
  if (auto ex = fs::read_file(o_.layout.exit_file(name)))
    if (auto v = json::parse(*ex)) o.set("last_exit", std::move(*v));
  return o;
}

Result<json::Value> NodeService::start(const std::string& name) {
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

Result<json::Value> NodeService::stop(const std::string& name, bool force, std::optional<int> timeout) {
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
  if (!wait_state(name, State::stopped, 10s)) return Error(ETIMEDOUT, "stop " + name + ": the monitor did not report an exit");
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

Result<json::Value> NodeService::restart(const std::string& name) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  auto st = stop_locked_out(name, false, std::nullopt);
  if (!st && st.error().code() != EALREADY) return std::move(st).error();
  BERTH_TRY(start_locked_out(name));
  return show(name);
}

Result<json::Value> NodeService::suspend(const std::string& name) { return freeze(name, true); }

Result<json::Value> NodeService::resume(const std::string& name) { return freeze(name, false); }

Result<json::Value> NodeService::freeze(const std::string& name, bool frozen) {
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

Result<json::Value> NodeService::destroy(const std::string& name) {
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
  json::Value o = json::Value::object();
  o.set("name", name);
  return o;
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

Status NodeService::check_set(const std::string& name, const json::Value& request) {
  if (!request.is_object() || request.as_object().empty()) return Error::msg("body: expected an object of changes");
  json::Value changes = request;
  BERTH_TRY(take_guest_access(changes, false));  // checked here, hashed by set()
  if (changes.as_object().empty()) {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    if (e->record.init == InitKind::app) return Error::msg("ssh_key, root_password: an app container has no logins to give");
    return ok();
  }
  for (const char* fixed : {"name", "rootfs", "template", "privileged", "idmap_base", "cluster", "project"})
    if (changes.find(fixed)) return Error::msg(std::string(fixed) + ": cannot be changed");
  Record r;
  {
    std::lock_guard lock(mu_);
    r = BERTH_TRY(reg_.get(name))->record;
  }
  BERTH_TRY(apply_json(r, changes, ""));
  if (r.init == InitKind::app && !fs::exists(o_.layout.app_process(name)))
    return Error::msg("init: app runs the process of an image without an init label; " + name + " was not made from one");
  BERTH_TRY(check_node_limits(r));
  return net_->check(r, records());
}

Result<json::Value> NodeService::set(const std::string& name, const json::Value& request) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  BERTH_TRY(check_set(name, request));
  json::Value changes = request;
  GuestAccess access = BERTH_TRY(take_guest_access(changes));
  json::Value live = json::Value::array(), later = json::Value::array();
  if (!changes.as_object().empty()) BERTH_TRY(set_record(name, changes, live, later));
  if (!access.empty()) {
    // Last, once the record's changes held: a running guest gets them at
    // once (its disk is mounted here), a stopped one at its next start.
    bool up;
    Record rec;
    {
      std::lock_guard lock(mu_);
      Entry* e = BERTH_TRY(reg_.get(name));
      up = e->state == State::running || e->state == State::suspended;
      rec = e->record;
    }
    if (up) BERTH_TRY_CTX(apply_guest_access(guest_root(rec, o_.layout), access, rec.idmap_base.value_or(0)), "set " + name);
    else BERTH_TRY_CTX(save_pending_access(o_.layout.access(name), access), "set " + name);
    for (const char* k : {"ssh_key", "root_password"})
      if (request.find(k)) (up ? live : later).push_back(k);
  }
  json::Value o = json::Value::object();
  o.set("live", std::move(live));
  o.set("restart", std::move(later));
  return o;
}

Status NodeService::set_record(const std::string& name, const json::Value& changes, json::Value& live,
                               json::Value& later) {
  Record r;
  bool running;
  {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    r = e->record;
    running = e->state == State::running || e->state == State::suspended;
  }
  Record old_r = r;
  BERTH_TRY(apply_json(r, changes, ""));
  {
    // The chosen addresses and ports go into the registry at once, so a create beside
    // this set never picks them too; put back if the set fails.
    std::lock_guard lock(mu_);
    BERTH_TRY(net_->resolve(r, records_locked()));
    if (Entry* e = reg_.find(name)) e->record.nets = r.nets, e->record.ports = r.ports;
  }
  Defer keep_old_nets([&] {
    std::lock_guard lock(mu_);
    if (Entry* e = reg_.find(name)) e->record.nets = old_r.nets, e->record.ports = old_r.ports;
  });
  bool disk_live = BERTH_TRY_CTX(resize_root(old_r, r, running), "set " + name);
  for (const auto& [k, _] : changes.as_object()) (needs_restart(k) || (k == "disk" && !disk_live) ? later : live).push_back(k);
  if (running && std::any_of(live.as_array().begin(), live.as_array().end(), [](const json::Value& k) { return k.as_string() != "disk"; })) {
    Record applied = r;
    {
      std::lock_guard lock(mu_);
      applied.cpuset = cpus_for_locked(r);
    }
    // A count that now covers every CPU unpins: the cgroup gets them all.
    if (applied.cpuset.empty() && (changes.find("cpus") || changes.find("cpuset")))
      applied.cpuset = format_cpu_list(online_cpus());
    auto res = BERTH_TRY(cgroups::parse_resources(make_resources(applied), "resources"));
    BERTH_TRY_CTX(runtime::update(g_, name, res), "set " + name);
  }
  BERTH_TRY(fs::write_file_atomic(o_.layout.config(name), format_record(r), 0644));
  {
    std::lock_guard lock(mu_);
    if (Entry* e = reg_.find(name)) e->record = r;
  }
  keep_old_nets.dismiss();
  json::Value extra = json::Value::object();
  extra.set("changes", changes);
  events_.publish("updated", name, std::move(extra));
  return ok();
}

Result<std::string> NodeService::console_log(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    BERTH_TRY(reg_.get(name));
  }
  auto text = fs::read_file(o_.layout.console_log(name), 2u << 20);  // rotated at 1 MiB
  if (!text && text.error().code() == ENOENT) return std::string();
  return text;
}

Result<UniqueFd> NodeService::console(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    if (!e->init_pid) return Error(EALREADY, "container " + name + " is " + state_name(e->state));
  }
  auto m = BERTH_TRY(connect_monitor(o_.layout, name));
  BERTH_TRY_CTX(write_all(m.second.get(), "attach\n"), "console of " + name);
  return std::move(m.second);
}

Result<UniqueFd> NodeService::exec_terminal(const std::string& name, const json::Value& req) {
  {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    if (e->state != State::running) return Error(EALREADY, "container " + name + " is " + state_name(e->state));
  }
  auto m = BERTH_TRY(connect_monitor(o_.layout, name));
  BERTH_TRY_CTX(write_all(m.second.get(), "exec " + json::dump(req) + "\n"), "exec in " + name);
  return std::move(m.second);
}

namespace {

// One metric family in Prometheus's text format: HELP, TYPE, then samples.
struct Family {
  std::string name, text;
  Family(const char* n, const char* type, const char* help)
      : name(n), text(std::string("# HELP ") + n + " " + help + "\n# TYPE " + n + " " + type + "\n") {}
  void add(const std::string& labels, const std::string& value) { text += name + "{" + labels + "} " + value + "\n"; }
  void add(const std::string& labels, uint64_t value) { add(labels, std::to_string(value)); }
};

uint64_t member(const json::Value* v, std::initializer_list<const char*> path) {
  for (const char* k : path) {
    if (!v || !v->is_object()) return 0;
    v = v->find(k);
  }
  return v && v->is_number() ? v->as_uint() : 0;
}

// Bytes or operations read and written, summed over devices (the
// runtime's stats name both cgroup versions' counters Read and Write).
void add_io(const json::Value* blkio, const char* list, const std::string& label, Family& read, Family& write) {
  uint64_t r = 0, w = 0;
  const json::Value* a = blkio ? blkio->find(list) : nullptr;
  if (a && a->is_array())
    for (const json::Value& e : a->as_array()) {
      const json::Value* op = e.find("op");
      if (!op || !op->is_string()) continue;
      if (op->as_string() == "Read") r += member(&e, {"value"});
      else if (op->as_string() == "Write") w += member(&e, {"value"});
    }
  read.add(label, r);
  write.add(label, w);
}

}  // namespace

std::string NodeService::metrics() {
  std::vector<std::pair<std::string, pid_t>> running;
  size_t total;
  {
    std::lock_guard lock(mu_);
    total = reg_.size();
    for (const Entry* e : reg_.all())
      if (e->init_pid) running.emplace_back(e->record.name, e->init_pid);
  }
  Family cpu("berth_container_cpu_seconds_total", "counter", "CPU time used by the container's cgroup.");
  Family mem("berth_container_memory_bytes", "gauge", "Memory charged to the container's cgroup.");
  Family pids("berth_container_pids", "gauge", "Processes in the container.");
  Family io_rb("berth_container_io_read_bytes_total", "counter", "Bytes read from block devices by the container's cgroup.");
  Family io_wb("berth_container_io_write_bytes_total", "counter", "Bytes written to block devices by the container's cgroup.");
  Family io_ro("berth_container_io_reads_total", "counter", "Block device reads by the container's cgroup.");
  Family io_wo("berth_container_io_writes_total", "counter", "Block device writes by the container's cgroup.");
  Family rx_b("berth_container_network_receive_bytes_total", "counter", "Bytes received on the container's interface.");
  Family tx_b("berth_container_network_transmit_bytes_total", "counter", "Bytes sent on the container's interface.");
  Family rx_p("berth_container_network_receive_packets_total", "counter", "Packets received on the container's interface.");
  Family tx_p("berth_container_network_transmit_packets_total", "counter", "Packets sent on the container's interface.");
  Family rx_d("berth_container_network_receive_drops_total", "counter", "Received packets dropped on the container's interface.");
  Family tx_d("berth_container_network_transmit_drops_total", "counter", "Packets to send dropped on the container's interface.");
  Family rx_e("berth_container_network_receive_errors_total", "counter", "Receive errors on the container's interface.");
  Family tx_e("berth_container_network_transmit_errors_total", "counter", "Transmit errors on the container's interface.");
  struct stat mine {};
  (void)::stat("/proc/self/ns/net", &mine);
  for (const auto& [n, pid] : running) {
    auto s = runtime::stats_event(g_, n);
    if (!s) continue;
    const json::Value* d = s->find("data");
    std::string label = "name=\"" + n + "\"";
    char secs[64];
    std::snprintf(secs, sizeof secs, "%.9f", static_cast<double>(member(d, {"cpu", "usage", "total"})) / 1e9);
    cpu.add(label, secs);
    mem.add(label, member(d, {"memory", "usage", "usage"}));
    pids.add(label, member(d, {"pids", "current"}));
    const json::Value* blkio = d ? d->find("blkio") : nullptr;
    add_io(blkio, "ioServiceBytesRecursive", label, io_rb, io_wb);
    add_io(blkio, "ioServicedRecursive", label, io_ro, io_wo);
    // The counters of the interfaces inside the container's own network
    // namespace (a container sharing the host's has none of its own).
    UniqueFd ns(::open(("/proc/" + std::to_string(pid) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC));
    struct stat theirs;
    if (!ns || ::fstat(ns.get(), &theirs) < 0 || mine.st_ino == theirs.st_ino)
      continue;
    auto nl = net::Netlink::open_in(ns.get());
    if (!nl) continue;
    auto links = nl->link_stats();
    if (!links) continue;
    for (const net::LinkStats& l : *links) {
      std::string ll = label + ",interface=\"" + l.name + "\"";
      rx_b.add(ll, l.rx_bytes);
      tx_b.add(ll, l.tx_bytes);
      rx_p.add(ll, l.rx_packets);
      tx_p.add(ll, l.tx_packets);
      rx_d.add(ll, l.rx_dropped);
      tx_d.add(ll, l.tx_dropped);
      rx_e.add(ll, l.rx_errors);
      tx_e.add(ll, l.tx_errors);
    }
  }
  std::string out = "# HELP berth_containers Containers known to this node.\n# TYPE berth_containers gauge\nberth_containers " +
                    std::to_string(total) +
                    "\n# HELP berth_containers_running Containers running.\n# TYPE berth_containers_running gauge\n"
                    "berth_containers_running " + std::to_string(running.size()) + "\n";
  for (const Family* f : {&cpu, &mem, &pids, &io_rb, &io_wb, &io_ro, &io_wo, &rx_b, &tx_b, &rx_p, &tx_p, &rx_d, &tx_d,
                          &rx_e, &tx_e})
    out += f->text;
  return out;
}

}  // namespace berth::supervisor
