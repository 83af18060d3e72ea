// bundle.cpp — a system container's config.json: the runtime's default spec
// with the record's init, hostname and limits.
#include "berth/supervisor/bundle.h"

#include <signal.h>
#include <sys/mount.h>

#include <cerrno>

#include <algorithm>
#include <initializer_list>

#include "berth/runtime/spec.h"

namespace berth::supervisor {

namespace {

json::Value strings(std::initializer_list<const char*> items) {
  json::Value a = json::Value::array();
  for (const char* s : items) a.push_back(s);
  return a;
}

// What a full OS needs to boot and run its services as root inside, without
// what reaches the host kernel as a whole (modules, raw I/O, clock, MAC
// policy). CAP_SYS_BOOT is kept: in a pid namespace reboot(2) ends the
// container's init, which is how busybox and systemd halt. CAP_SYS_ADMIN
// only for systemd, which mounts its own file systems.
json::Value capabilities(InitKind k) {
  json::Value caps = strings({"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
                              "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
                              "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
                              "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_LEASE",
                              "CAP_MKNOD", "CAP_AUDIT_WRITE", "CAP_SETFCAP"});
  if (k == InitKind::systemd) caps.push_back("CAP_SYS_ADMIN");
  json::Value c = json::Value::object();
  c.set("bounding", caps);
  c.set("effective", caps);
  c.set("permitted", caps);
  return c;
}

// The default seccomp profile of every system container, as LXC and
// Incus have one: everything allowed but what reaches the host's kernel as
// a whole (loading modules, kexec, file handles that walk out of a mount,
// raw port I/O, the host's swap) or its keyrings (not namespaced), which
// fail with ENOSYS as on a kernel without them; and umount with MNT_FORCE,
// which could cut a mount shared with the host. The 32-bit ABIs of the
// machine go through the same filter. sysinfo(2) goes to the monitor
// (`listener`, its seccomp socket), which answers with the container's
// memory limits and uptime (monitor/sysinfo.h), as Incus does with
// security.syscalls.intercept.sysinfo.
json::Value default_seccomp(const std::string& listener) {
  json::Value s = json::Value::object();
  s.set("defaultAction", "SCMP_ACT_ALLOW");
#if defined(__x86_64__)
  s.set("architectures", strings({"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}));
#elif defined(__aarch64__)
  s.set("architectures", strings({"SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"}));
#endif
  json::Value nosys = json::Value::object();
  nosys.set("names", strings({"kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
                              "open_by_handle_at", "iopl", "ioperm", "swapon", "swapoff", "add_key", "request_key",
                              "keyctl", "lookup_dcookie", "quotactl_fd", "vm86", "vm86old"}));
  nosys.set("action", "SCMP_ACT_ERRNO");
  nosys.set("errnoRet", ENOSYS);
  json::Value force = json::Value::object();
  force.set("names", strings({"umount2"}));
  force.set("action", "SCMP_ACT_ERRNO");
  force.set("errnoRet", EACCES);
  json::Value arg = json::Value::object();
  arg.set("index", 1);
  arg.set("value", MNT_FORCE);
  arg.set("valueTwo", MNT_FORCE);
  arg.set("op", "SCMP_CMP_MASKED_EQ");
  force.set("args", json::Value(json::Array{arg}));
  json::Value notify = json::Value::object();
  notify.set("names", strings({"sysinfo"}));
  notify.set("action", "SCMP_ACT_NOTIFY");
  s.set("syscalls", json::Value(json::Array{nosys, force, notify}));
  s.set("listenerPath", listener);
  return s;
}

// The runtime's default process, turned into a system container's init:
// /sbin/init on the console pty, no rlimits or no_new_privs (su and
// setuid helpers must work inside).
void make_init_process(json::Value& p, const Record& r) {
  p.set("args", strings({"/sbin/init"}));
  p.set("env", strings({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=linux",
                        "container=berth"}));
  p.set("capabilities", capabilities(r.init));
  p.set("noNewPrivileges", false);
  json::Object kept;
  for (auto& m : p.as_object())
    if (m.first != "rlimits") kept.push_back(std::move(m));
  p = json::Value(std::move(kept));
}

// An app container's PID 1: the image's own process, with the same
// capabilities as a busybox system container.
void make_app_process(json::Value& p, const Record& r, const json::Value& app) {
  make_init_process(p, r);
  p.set("args", *app.find("args"));
  p.set("env", *app.find("env"));
  p.set("cwd", *app.find("cwd"));
  json::Value user = json::Value::object();
  user.set("uid", *app.find("uid"));
  user.set("gid", *app.find("gid"));
  p.set("user", std::move(user));
}

}  // namespace

uint64_t weight_to_shares(uint32_t weight) {
  uint64_t w = std::clamp<uint32_t>(weight, 1, 10000);
  return 2 + ((w - 1) * 262142 + 9998) / 9999;
}

int halt_signal(InitKind k) {
  // systemd halts on SIGRTMIN+3; busybox init halts on SIGUSR1 and powers
  // off on SIGUSR2 (SIGTERM reboots it), both ending with reboot(2).
  if (k == InitKind::app) return SIGTERM;
  return k == InitKind::systemd ? SIGRTMIN + 3 : SIGUSR2;
}

std::string guest_root(const Record& r, const Layout& l) {
  return r.template_tag.empty() ? l.rootfs(r.name) : l.disk_rootfs(r.name);
}

PowerExit power_exit(InitKind k, const json::Value& exit) {
  const json::Value* sig = exit.find("signal");
  if (k == InitKind::app || !sig || !sig->is_number()) return PowerExit::none;
  if (sig->as_int() == SIGHUP) return PowerExit::reboot;
  if (sig->as_int() == SIGINT) return PowerExit::poweroff;
  return PowerExit::none;
}

std::optional<std::vector<unsigned>> parse_cpu_list(std::string_view s) {
  std::vector<unsigned> out;
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.remove_suffix(1);
  if (s.empty()) return out;
  for (size_t from = 0; from <= s.size();) {
    size_t comma = std::min(s.find(',', from), s.size());
    std::string_view part = s.substr(from, comma - from);
    size_t dash = part.find('-');
    auto num = [](std::string_view d) -> std::optional<unsigned> {
      if (d.empty() || d.size() > 5 || d.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
      return static_cast<unsigned>(std::stoul(std::string(d)));
    };
    auto lo = num(part.substr(0, dash));
    auto hi = dash == std::string_view::npos ? lo : num(part.substr(dash + 1));
    if (!lo || !hi || *hi < *lo) return std::nullopt;
    for (unsigned c = *lo; c <= *hi; ++c) out.push_back(c);
    from = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string format_cpu_list(std::vector<unsigned> cpus) {
  std::sort(cpus.begin(), cpus.end());
  std::string out;
  for (size_t i = 0; i < cpus.size();) {
    size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    out += (out.empty() ? "" : ",") + std::to_string(cpus[i]);
    if (j > i) out += "-" + std::to_string(cpus[j]);
    i = j + 1;
  }
  return out;
}

std::string pick_cpus(unsigned want, const std::vector<unsigned>& online, const std::map<unsigned, unsigned>& use) {
  if (want == 0 || want >= online.size()) return "";
  std::vector<unsigned> order = online;
  auto load = [&](unsigned c) {
    auto it = use.find(c);
    return it == use.end() ? 0u : it->second;
  };
  std::stable_sort(order.begin(), order.end(), [&](unsigned a, unsigned b) { return load(a) < load(b); });
  order.resize(want);
  return format_cpu_list(std::move(order));
}

cgroups::Resources resources_of(const Record& r) {
  cgroups::Resources res;
  if (r.ram) {
    res.memory.limit = static_cast<int64_t>(*r.ram);
    res.memory.swap = static_cast<int64_t>(*r.ram + r.swap.value_or(0));  // OCI swap is memory + swap
  }
  // CPUS and CPULIMIT both cap CPU time; the tighter one wins.
  std::optional<uint64_t> quota;
  if (r.cpus) quota = uint64_t{*r.cpus} * 100000;
  if (r.cpu_limit) quota = std::min<uint64_t>(quota.value_or(UINT64_MAX), uint64_t{*r.cpu_limit} * 1000);
  if (quota) {
    res.cpu.quota = static_cast<int64_t>(*quota);
    res.cpu.period = 100000;
  }
  if (r.cpu_weight) res.cpu.shares = weight_to_shares(*r.cpu_weight);
  res.cpu.cpus = r.cpuset;
  if (r.pids) res.pids.limit = *r.pids;
  return res;
}

json::Value resources_json(const cgroups::Resources& res) {
  json::Value out = json::Value::object();
  json::Value mem = json::Value::object();
  if (res.memory.limit) mem.set("limit", *res.memory.limit);
  if (res.memory.swap) mem.set("swap", *res.memory.swap);
  if (!mem.as_object().empty()) out.set("memory", std::move(mem));
  json::Value cpu = json::Value::object();
  if (res.cpu.quota) cpu.set("quota", *res.cpu.quota);
  if (res.cpu.period) cpu.set("period", *res.cpu.period);
  if (res.cpu.shares) cpu.set("shares", *res.cpu.shares);
  if (!res.cpu.cpus.empty()) cpu.set("cpus", res.cpu.cpus);
  if (!cpu.as_object().empty()) out.set("cpu", std::move(cpu));
  if (res.pids.limit) out.set("pids", json::Value(json::Object{{"limit", *res.pids.limit}}));
  return out;
}

json::Value make_spec(const Record& r, const Layout& l, const json::Value* app) {
  json::Value spec = runtime::default_spec(false);
  json::Value* root = spec.find("root");
  root->set("path", guest_root(r, l));
  root->set("readonly", false);
  if (app) make_app_process(*spec.find("process"), r, *app);
  else make_init_process(*spec.find("process"), r);
  spec.set("hostname", r.hostname.empty() ? r.name : r.hostname);
  json::Value run = json::Value::object();
  run.set("destination", "/run");
  run.set("type", "tmpfs");
  run.set("source", "tmpfs");
  run.set("options", strings({"nosuid", "nodev", "mode=755", "size=65536k"}));
  spec.find("mounts")->push_back(std::move(run));
  if (r.init == InitKind::systemd) {
    // systemd as PID 1 manages its own services' cgroups: behind the
    // container's cgroup namespace it gets its cgroup as a cgroup2 tree of
    // its own, writable (the runtime hands the directory to the guest's
    // root), the cgroup2 tree alone even where the host also has v1
    // hierarchies (a hybrid host): systemd 256 and later boot only on
    // cgroup v2, and the v1 controllers go on holding the limits outside.
    for (json::Value& m : spec.find("mounts")->as_array()) {
      const json::Value* dst = m.find("destination");
      if (!dst || dst->as_string() != "/sys/fs/cgroup") continue;
      m.set("type", "cgroup2");
      m.set("source", "cgroup2");
      m.set("options", strings({"nosuid", "noexec", "nodev", "relatime", "rw"}));
    }
    // Each boot gets a boot id of its own, as systemd's container interface
    // asks of a container manager: the kernel's is the node's, so the
    // journal would see every boot of the guest as one (journalctl -b -1).
    json::Value id = json::Value::object();
    id.set("destination", "/proc/sys/kernel/random/boot_id");
    id.set("type", "bind");
    id.set("source", l.boot_id(r.name));
    id.set("options", strings({"bind", "ro", "nosuid", "nodev", "noexec"}));
    spec.find("mounts")->push_back(std::move(id));
  }
  json::Value ann = json::Value::object();
  ann.set("org.berth.init", init_name(r.init));
  spec.set("annotations", std::move(ann));

  json::Value* lx = spec.find("linux");
  lx->set("cgroupsPath", l.cgroup_path(r.name));
  lx->set("seccomp", default_seccomp(l.seccomp_socket(r.name)));
  if (!r.privileged && r.idmap_base) {
    // Root inside is an unprivileged id range outside; the rootfs was
    // shifted into it at create.
    json::Value userns = json::Value::object();
    userns.set("type", "user");
    lx->find("namespaces")->push_back(std::move(userns));
    json::Value map = json::Value::object();
    map.set("containerID", 0);
    map.set("hostID", *r.idmap_base);
    map.set("size", kIdRange);
    lx->set("uidMappings", json::Value(json::Array{map}));
    lx->set("gidMappings", json::Value(json::Array{map}));
  }
  // The default's resources deny every device (the runtime then allows the
  // default set); the record's limits go beside that rule.
  json::Value* res = lx->find("resources");
  json::Value limits = resources_json(resources_of(r));
  for (auto& [k, v] : limits.as_object()) res->set(k, std::move(v));
  return spec;
}

}  // namespace berth::supervisor
