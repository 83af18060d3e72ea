// state.cpp — the state directory: state.json written atomically, status
// derived from the live process, its cgroup and the start fifo.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/fs.h"
#include "berth/runtime/container.h"
#include "internal.h"

namespace berth::runtime {

const char* status_name(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::creating: return "creating";
    case ContainerStatus::created: return "created";
    case ContainerStatus::running: return "running";
    case ContainerStatus::paused: return "paused";
    case ContainerStatus::stopped: return "stopped";
  }
  return "unknown";
}

berth::Status validate_id(const std::string& id) {
  if (id.empty()) return Error::msg("container id: must not be empty");
  if (id.size() > 1024) return Error::msg("container id: longer than 1024 bytes");
  if (id == "." || id == "..") return Error::msg("container id: invalid id " + id);
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.' || c == '+';
    if (!ok) return Error::msg("container id: invalid character in " + id + " (allowed: A-Z a-z 0-9 _ - . +)");
  }
  return {};
}

std::string state_dir(const Globals& g, const std::string& id) { return fs::join(g.root, id); }

std::string seccomp_cache_dir(const Globals& g) { return fs::join(g.root, "seccomp@cache"); }

ProcInfo proc_info(pid_t pid) {
  ProcInfo info;
  if (pid <= 0) return info;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/stat", pid);
  auto text = fs::read_file(path);
  if (!text) return info;
  // Field 2 (comm) may contain spaces and parentheses: parse after the last ')'.
  auto close = text->rfind(')');
  if (close == std::string::npos) return info;
  const char* p = text->c_str() + close + 2;
  info.state = *p;
  // Skip to field 22 (starttime): we are at field 3.
  int field = 3;
  while (*p && field < 22) {
    if (*p == ' ') ++field;
    ++p;
  }
  info.start_time = std::strtoull(p, nullptr, 10);
  info.exists = true;
  return info;
}

bool process_alive(pid_t pid, unsigned long long start_time) {
  ProcInfo info = proc_info(pid);
  if (!info.exists || info.state == 'Z' || info.state == 'X') return false;
  return start_time == 0 || info.start_time == start_time;
}

json::Value state_json(const State& s) {
  json::Value v = json::Value::object();
  v.set("ociVersion", s.oci_version);
  v.set("id", s.id);
  v.set("pid", static_cast<int64_t>(s.status == ContainerStatus::stopped ? 0 : s.pid));
  v.set("status", status_name(s.status));
  v.set("bundle", s.bundle);
  v.set("rootfs", s.rootfs);
  v.set("created", s.created);
  v.set("owner", s.owner);
  if (!s.annotations.empty()) {
    json::Value a = json::Value::object();
    for (const auto& [k, val] : s.annotations) a.set(k, val);
    v.set("annotations", std::move(a));
  }
  return v;
}

berth::Status save_state(const Globals& g, const State& s) {
  json::Value v = state_json(s);
  v.set("pid", static_cast<int64_t>(s.pid));
  v.set("status", "created");
  v.set("startTime", static_cast<uint64_t>(s.start_time));
  v.set("cgroupPath", s.cgroup_path);
  v.set("systemdCgroup", s.systemd_cgroup);
  if (!s.poststop.is_null()) v.set("poststop", s.poststop);
  v.set("poststart", s.poststart.is_null() ? json::Value::array() : s.poststart);
  return fs::write_file_atomic(fs::join(state_dir(g, s.id), "state.json"), json::dump(v), 0600);
}

Result<State> read_state_file(const Globals& g, const std::string& id) {
  auto text = fs::read_file(fs::join(state_dir(g, id), "state.json"));
  if (!text) {
    if (text.error().code() == ENOENT) return Error(ENOENT, "container " + id + " does not exist");
    return std::move(text).error();
  }
  auto doc = json::parse(*text);
  if (!doc) return std::move(doc).error().wrap("state of " + id);
  const json::Value& v = *doc;
  State s;
  auto str = [&](const char* k) -> std::string {
    const json::Value* p = v.find(k);
    return p && p->is_string() ? p->as_string() : std::string();
  };
  s.oci_version = str("ociVersion");
  s.id = str("id");
  s.bundle = str("bundle");
  s.rootfs = str("rootfs");
  s.created = str("created");
  s.owner = str("owner");
  s.cgroup_path = str("cgroupPath");
  if (auto* p = v.find("pid"); p && p->is_int()) s.pid = static_cast<pid_t>(p->as_int());
  if (auto* p = v.find("startTime"); p && p->is_uint()) s.start_time = p->as_uint();
  if (auto* p = v.find("systemdCgroup"); p && p->is_bool()) s.systemd_cgroup = p->as_bool();
  if (auto* p = v.find("poststop")) s.poststop = *p;
  if (auto* p = v.find("poststart")) s.poststart = *p;
  if (auto* p = v.find("annotations"); p && p->is_object())
    for (const auto& [k, val] : p->as_object())
      if (val.is_string()) s.annotations[k] = val.as_string();
  return s;
}

Result<State> load_state(const Globals& g, const std::string& id) {
  BERTH_TRY(validate_id(id));
  State s = BERTH_TRY(read_state_file(g, id));
  if (!process_alive(s.pid, s.start_time)) {
    s.status = ContainerStatus::stopped;
  } else if (fs::exists(fs::join(state_dir(g, id), "exec.fifo"))) {
    s.status = ContainerStatus::created;
  } else {
    s.status = ContainerStatus::running;
    auto mgr = cgroup_manager(g, s);
    if (mgr) {
      auto frozen = (*mgr)->frozen();
      if (frozen && *frozen) s.status = ContainerStatus::paused;
    }
  }
  return s;
}

Result<std::vector<State>> list(const Globals& g) {
  std::vector<State> out;
  auto names = fs::list_dir(g.root);
  if (!names) {
    if (names.error().code() == ENOENT) return out;
    return std::move(names).error();
  }
  for (const auto& n : *names) {
    auto s = load_state(g, n);
    if (s) out.push_back(std::move(s.value()));
  }
  return out;
}

Result<std::unique_ptr<cgroups::Manager>> cgroup_manager(const Globals& g, const State& s) {
  cgroups::Options o;
  o.root = g.cgroup_root;
  o.path = s.cgroup_path;
  o.id = s.id;
  o.systemd = s.systemd_cgroup;
  return cgroups::make_manager(o);
}

}  // namespace berth::runtime
