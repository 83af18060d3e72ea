// node_limits.cpp — a container's limits against the node's CPUs and
// memory, its CPU pin, and `set`: record changes checked, applied live to
// the cgroup where they can be, and saved.
#include "node_limits.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "berth/base/fs.h"
#include "berth/supervisor/bundle.h"
#include "berth/supervisor/node_service.h"
#include "guest_files.h"

namespace berth::supervisor {

namespace {

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

}  // namespace

Status check_node_limits(const Record& r) {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  uint64_t mem = node_memory();
  if (r.ram && mem && *r.ram > mem)
    return Error::msg("ram: " + std::to_string(*r.ram) + " bytes is more than the node has (" + std::to_string(mem) +
                      ")");
  if (r.cpus && cpus > 0 && *r.cpus > cpus)
    return Error::msg("cpus: " + std::to_string(*r.cpus) + " is more than the node has (" + std::to_string(cpus) + ")");
  if (!r.cpuset.empty() && cpus > 0 && max_cpu(r.cpuset) >= cpus)
    return Error::msg("cpuset: " + r.cpuset + " names a CPU the node does not have (0-" + std::to_string(cpus - 1) +
                      ")");
  return ok();
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

Status NodeService::check_set(const std::string& name, const SetRequest& request) {
  if (request.empty()) return Error::msg("body: expected an object of changes");
  BERTH_TRY(guest_access(request.ssh_key, request.root_password, false));  // checked here, hashed by set()
  if (request.fields.empty()) {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    if (e->record.init == InitKind::app)
      return Error::msg("ssh_key, root_password: an app container has no logins to give");
    return ok();
  }
  for (const char* fixed : {"name", "rootfs", "template", "privileged", "idmap_base", "cluster", "project"})
    if (request.find(fixed)) return Error::msg(std::string(fixed) + ": cannot be changed");
  Record r;
  {
    std::lock_guard lock(mu_);
    r = BERTH_TRY(reg_.get(name))->record;
  }
  for (const FieldChange& f : request.fields) BERTH_TRY(apply_field(r, f, ""));
  if (r.init == InitKind::app && !fs::exists(o_.layout.app_process(name)))
    return Error::msg("init: app runs the process of an image without an init label; " + name +
                      " was not made from one");
  BERTH_TRY(check_node_limits(r));
  return net_->check(r, records());
}

Result<SetResult> NodeService::set(const std::string& name, const SetRequest& request) {
  Claim c(*this, name);
  BERTH_TRY(c.take());
  BERTH_TRY(check_set(name, request));
  GuestAccess access = BERTH_TRY(guest_access(request.ssh_key, request.root_password));
  SetResult out;
  if (!request.fields.empty()) BERTH_TRY(set_record(name, request.fields, out));
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
    if (up)
      BERTH_TRY_CTX(apply_guest_access(guest_root(rec, o_.layout), access, rec.idmap_base.value_or(0)), "set " + name);
    else BERTH_TRY_CTX(save_pending_access(o_.layout.access(name), access), "set " + name);
    std::vector<std::string>& to = up ? out.live : out.restart;
    if (request.ssh_key) to.emplace_back("ssh_key");
    if (request.root_password) to.emplace_back("root_password");
  }
  return out;
}

Status NodeService::set_record(const std::string& name, const std::vector<FieldChange>& changes, SetResult& out) {
  Record r;
  bool running;
  {
    std::lock_guard lock(mu_);
    Entry* e = BERTH_TRY(reg_.get(name));
    r = e->record;
    running = e->state == State::running || e->state == State::suspended;
  }
  Record old_r = r;
  for (const FieldChange& f : changes) BERTH_TRY(apply_field(r, f, ""));
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
  bool cgroup_live = false, cpus_changed = false;
  for (const FieldChange& f : changes) {
    bool live = !needs_restart(f.key) && (f.key != "disk" || disk_live);
    (live ? out.live : out.restart).push_back(f.key);
    cgroup_live = cgroup_live || (live && f.key != "disk");
    cpus_changed = cpus_changed || f.key == "cpus" || f.key == "cpuset";
  }
  if (running && cgroup_live) {
    Record applied = r;
    {
      std::lock_guard lock(mu_);
      applied.cpuset = cpus_for_locked(r);
    }
    // A count that now covers every CPU unpins: the cgroup gets them all.
    if (applied.cpuset.empty() && cpus_changed) applied.cpuset = format_cpu_list(online_cpus());
    BERTH_TRY_CTX(runtime::update(g_, name, resources_of(applied)), "set " + name);
  }
  BERTH_TRY(fs::write_file_atomic(o_.layout.config(name), format_record(r), 0644));
  {
    std::lock_guard lock(mu_);
    if (Entry* e = reg_.find(name)) e->record = r;
  }
  keep_old_nets.dismiss();
  json::Value fields = json::Value::object();
  for (const FieldChange& f : changes) fields.set(f.key, f.value.empty() ? json::Value() : json::Value(f.value));
  json::Value extra = json::Value::object();
  extra.set("changes", std::move(fields));
  events_.publish("updated", name, std::move(extra));
  return ok();
}

}  // namespace berth::supervisor
