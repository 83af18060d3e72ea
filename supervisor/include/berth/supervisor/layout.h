// layout.h — where berthd keeps things: persistent records under the state
// directory, sockets and the runtime's state under the run directory.
#pragma once

#include <string>

#include "berth/base/fs.h"

namespace berth::supervisor {

struct Layout {
  std::string state_dir = "/var/lib/berth";  // survives reboots
  std::string run_dir = "/run/berthd";       // gone at reboot
  std::string cgroup_parent = "berth.containers";

  std::string containers() const { return fs::join(state_dir, "containers"); }
  std::string container_dir(const std::string& n) const { return fs::join(containers(), n); }
  std::string config(const std::string& n) const { return fs::join(container_dir(n), "config"); }
  std::string rootfs(const std::string& n) const { return fs::join(container_dir(n), "rootfs"); }
  /// A template container's disk (images::create_disk) and its mounted root.
  std::string disk(const std::string& n) const { return fs::join(container_dir(n), "disk"); }
  std::string disk_rootfs(const std::string& n) const { return fs::join(disk(n), "rootfs"); }
  /// An INIT="app" container's process, from its image's config.
  std::string app_process(const std::string& n) const { return fs::join(container_dir(n), "app.json"); }
  /// SSH keys and root's password hash waiting for the next start (0600).
  std::string access(const std::string& n) const { return fs::join(container_dir(n), "access.json"); }
  /// A systemd guest's boot id for this boot, bound over its
  /// /proc/sys/kernel/random/boot_id (the kernel's is the node's).
  std::string boot_id(const std::string& n) const { return fs::join(container_dir(n), "boot_id"); }
  std::string images() const { return fs::join(state_dir, "images"); }
  std::string bundle(const std::string& n) const { return fs::join(container_dir(n), "bundle"); }
  std::string exit_file(const std::string& n) const { return fs::join(container_dir(n), "exit.json"); }
  std::string console_log(const std::string& n) const { return fs::join(container_dir(n), "console.log"); }
  std::string runtime_root() const { return fs::join(run_dir, "runtime"); }
  std::string monitor_dir(const std::string& n) const { return fs::join(fs::join(run_dir, "monitors"), n); }
  std::string monitor_socket(const std::string& n) const { return fs::join(monitor_dir(n), "monitor.sock"); }
  /// Where the monitor takes the container's seccomp notify fds (the bundle's listenerPath).
  std::string seccomp_socket(const std::string& n) const { return fs::join(monitor_dir(n), "seccomp.sock"); }
  std::string api_socket() const { return fs::join(run_dir, "berthd.sock"); }
  std::string cgroup_path(const std::string& n) const { return "/" + cgroup_parent + "/" + n; }
};

}  // namespace berth::supervisor
