// default_spec.cpp — the config.json written by `berth-runtime spec` (runc's example spec and ToRootless).
#include <unistd.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "security.h"

namespace berth::runtime {

namespace {

using List = std::initializer_list<const char*>;

json::Value strings(List items) {
  json::Value a = json::Value::array();
  for (const char* s : items) a.push_back(s);
  return a;
}

json::Value mount(const char* destination, const char* type, const char* source, List options) {
  json::Value m = json::Value::object();
  m.set("destination", destination);
  m.set("type", type);
  m.set("source", source);
  if (options.size() > 0) m.set("options", strings(options));
  return m;
}

json::Value default_process() {
  // Bounding, effective and permitted only: no inheritable or ambient set,
  // so file capabilities cannot be inherited (CVE-2022-29162).
  const List caps = {"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"};
  json::Value capabilities = json::Value::object();
  capabilities.set("bounding", strings(caps));
  capabilities.set("effective", strings(caps));
  capabilities.set("permitted", strings(caps));

  json::Value user = json::Value::object();
  user.set("uid", 0);
  user.set("gid", 0);

  json::Value nofile = json::Value::object();
  nofile.set("type", "RLIMIT_NOFILE");
  nofile.set("hard", 1024);
  nofile.set("soft", 1024);
  json::Value rlimits = json::Value::array();
  rlimits.push_back(std::move(nofile));

  json::Value p = json::Value::object();
  p.set("terminal", true);
  p.set("user", std::move(user));
  p.set("args", strings({"sh"}));
  p.set("env", strings({"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"}));
  p.set("cwd", "/");
  p.set("capabilities", std::move(capabilities));
  p.set("rlimits", std::move(rlimits));
  p.set("noNewPrivileges", true);
  return p;
}

json::Value default_mounts() {
  json::Value m = json::Value::array();
  m.push_back(mount("/proc", "proc", "proc", {}));
  m.push_back(mount("/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}));
  m.push_back(mount("/dev/pts", "devpts", "devpts",
                    {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}));
  m.push_back(mount("/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}));
  m.push_back(mount("/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}));
  m.push_back(mount("/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}));
  m.push_back(mount("/sys/fs/cgroup", "cgroup", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}));
  return m;
}

json::Value namespaces(List types) {
  json::Value a = json::Value::array();
  for (const char* t : types) {
    json::Value ns = json::Value::object();
    ns.set("type", t);
    a.push_back(std::move(ns));
  }
  return a;
}

json::Value deny_all_devices() {
  json::Value deny = json::Value::object();
  deny.set("allow", false);
  deny.set("access", "rwm");
  json::Value devices = json::Value::array();
  devices.push_back(std::move(deny));
  json::Value resources = json::Value::object();
  resources.set("devices", std::move(devices));
  return resources;
}

json::Value id_mapping(unsigned host_id) {
  json::Value m = json::Value::object();
  m.set("containerID", 0);
  m.set("hostID", host_id);
  m.set("size", 1);
  json::Value a = json::Value::array();
  a.push_back(std::move(m));
  return a;
}

json::Value default_linux(bool rootless) {
  json::Value l = json::Value::object();
  if (rootless) {
    l.set("uidMappings", id_mapping(::geteuid()));
    l.set("gidMappings", id_mapping(::getegid()));
    // No network namespace and no cgroup resources: an unprivileged user can
    // neither configure a new netns nor write cgroup files.
    l.set("namespaces", namespaces({"pid", "ipc", "uts", "mount", "cgroup", "user"}));
  } else {
    l.set("resources", deny_all_devices());
    l.set("namespaces", namespaces({"pid", "network", "ipc", "uts", "mount", "cgroup"}));
  }
  // runc 1.1's lists (reference §5.6).
  l.set("maskedPaths", strings({"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                                "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                "/proc/scsi"}));
  l.set("readonlyPaths", strings({"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"}));
  return l;
}

bool is_id_option(const json::Value& option) {
  const std::string& s = option.as_string();
  return s.starts_with("uid=") || s.starts_with("gid=");
}

// runc's ToRootless: sysfs cannot be mounted without owning the network
// namespace, so /sys becomes a read-only rbind of the host's; uid=/gid=
// options name ids the user namespace does not map.
json::Value rootless_mounts(json::Value mounts) {
  json::Value out = json::Value::array();
  for (json::Value& m : mounts.as_array()) {
    if (m.find("destination")->as_string() == "/sys") {
      json::Value sys = json::Value::object();
      sys.set("destination", "/sys");
      sys.set("type", "none");
      sys.set("source", "/sys");
      sys.set("options", strings({"rbind", "nosuid", "noexec", "nodev", "ro"}));
      out.push_back(std::move(sys));
      continue;
    }
    if (json::Value* options = m.find("options")) {
      json::Value kept = json::Value::array();
      for (json::Value& o : options->as_array())
        if (!is_id_option(o)) kept.push_back(std::move(o));
      *options = std::move(kept);
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace

json::Value default_spec(bool rootless) {
  json::Value root = json::Value::object();
  root.set("path", "rootfs");
  root.set("readonly", true);

  json::Value mounts = default_mounts();
  if (rootless) mounts = rootless_mounts(std::move(mounts));

  json::Value spec = json::Value::object();
  spec.set("ociVersion", "1.2.0");
  spec.set("process", default_process());
  spec.set("root", std::move(root));
  spec.set("hostname", "berth");
  spec.set("mounts", std::move(mounts));
  spec.set("linux", default_linux(rootless));
  return spec;
}

}  // namespace berth::runtime
