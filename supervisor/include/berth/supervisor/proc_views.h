// proc_views.h — /proc files that show a container its own limits and use
// (memory, CPUs, CPU time, uptime, load), served by lxcfs: one lxcfs for
// the node, whose files are bind-mounted over the container's own.
#pragma once

#include <mutex>
#include <set>
#include <string>

#include "berth/base/json.h"

namespace berth::supervisor {

/// The files of an lxcfs mount a container gets, relative to its root.
extern const char* const kProcViewFiles[8];

/// Adds to an OCI spec's mounts a read-only bind of `lxcfs_dir`/F over /F
/// for each of kProcViewFiles (pure: no I/O).
void add_proc_views(json::Value& spec, const std::string& lxcfs_dir);

/// The node's lxcfs. A system lxcfs mounted at `system_dir` (Debian's
/// lxcfs.service) is used as it is; otherwise berthd starts its own on
/// `own_dir` when a container starts, and stops it (unmounted) when the
/// last container that used it has stopped, or when berthd exits with no
/// such container. Its lxcfs outlives berthd while containers run (their
/// /proc files are its), and a restarted berthd takes it over. Without
/// lxcfs containers start with the kernel's /proc files (warned once).
/// Thread-safe.
class ProcViews {
public:
  ProcViews(std::string own_dir, std::string binary = "lxcfs", std::string system_dir = "/var/lib/lxcfs");
  ~ProcViews();
  ProcViews(const ProcViews&) = delete;
  ProcViews& operator=(const ProcViews&) = delete;

  /// Container `name` starts (or runs, when re-adopted): the lxcfs
  /// directory for its bundle, lxcfs started if needed; empty without one.
  std::string acquire(const std::string& name);
  /// Container `name` stopped: berthd's own lxcfs stops after the last.
  void release(const std::string& name);

private:
  std::string start_locked();
  void stop_locked();

  std::string own_dir_, binary_, system_dir_, pid_file_;
  std::mutex mu_;
  std::set<std::string> users_;
  std::string dir_;  // the lxcfs in use, empty when none
  bool own_ = false, warned_ = false, missing_ = false;
};

}  // namespace berth::supervisor
