// node_service.cpp — the node's Service: construction, reconcile and
// autostart at berthd's start, the monitors' exits, and what reads a
// container (show, list, its console). Each verb checks the registry under
// the lock, does its blocking work without it, and publishes events; the
// verbs live by group in node_lifecycle.cpp, node_limits.cpp,
// node_disks.cpp, node_networks.cpp, node_images.cpp and node_metrics.cpp.
#include "berth/supervisor/node_service.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <thread>

#include "berth/base/fs.h"
#include "berth/base/log.h"
#include "berth/supervisor/bundle.h"
#include "berth/supervisor/unix_socket.h"

namespace berth::supervisor {

using namespace std::chrono_literals;

namespace {

// The cpuset a container's bundle was made with ("" none): the pin of a
// container adopted after a restart of berthd.
std::string bundle_cpus(const std::string& bundle) {
  auto text = fs::read_file(fs::join(bundle, "config.json"));
  auto spec = text ? json::parse(*text) : Result<json::Value>(text.error());
  const json::Value* c = spec ? &*spec : nullptr;
  for (const char* k : {"linux", "resources", "cpu", "cpus"}) c = c && c->is_object() ? c->find(k) : nullptr;
  return c && c->is_string() ? c->as_string() : "";
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

std::vector<ContainerStatus> NodeService::start_autostart() {
  autostart();
  return list();
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

ContainerStatus NodeService::status_of(const Entry& e) {
  ContainerStatus c;
  c.record = e.record;
  c.state = e.state;
  c.init_pid = e.init_pid;
  c.monitor_pid = e.monitor_pid;
  c.started = e.started;
  c.addresses = net_addresses(e.record);
  return c;
}

std::vector<ContainerStatus> NodeService::list() {
  std::lock_guard lock(mu_);
  std::vector<ContainerStatus> out;
  for (const Entry* e : reg_.all()) out.push_back(status_of(*e));
  return out;
}

Result<ContainerStatus> NodeService::show(const std::string& name) {
  ContainerStatus c;
  {
    std::lock_guard lock(mu_);
    c = status_of(*BERTH_TRY(reg_.get(name)));
  }
  if (c.init_pid) {
    if (auto s = runtime::stats_event(g_, name)) {
      const json::Value* d = s->find("data");
      c.usage = Usage{d->find("cpu")->find("usage")->find("total")->as_uint(),
                      d->find("memory")->find("usage")->find("usage")->as_uint(),
                      d->find("pids")->find("current")->as_uint()};
    }
  }
  if (auto ex = fs::read_file(o_.layout.exit_file(name)))
    if (auto v = json::parse(*ex)) c.last_exit = std::move(*v);
  return c;
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

}  // namespace berth::supervisor
