// spec.cpp — config.json parsing and validation; every error names its field.
#include "berth/runtime/spec.h"

#include <sched.h>
#include <sys/resource.h>

#include <cstring>

#include "linux_compat.h"

#include "berth/base/fs.h"
#include "berth/base/json_fields.h"

namespace berth::runtime {
namespace {

using json::Type;
using json::Value;

using json::expect_object;
using json::get_bool;
using json::get_int;
using json::get_string;
using json::get_strings;
using json::get_u32;
using json::get_uint;
using json::idx;
using json::type_error;

Result<std::vector<IdMapping>> parse_mappings(const Value& v, const std::string& where) {
  if (!v.is_array()) return type_error(where, "array", v);
  std::vector<IdMapping> out;
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const Value& e = v.as_array()[i];
    std::string w = idx(where, i);
    BERTH_TRY(expect_object(e, w));
    IdMapping m;
    const Value* c = e.find("containerID");
    const Value* h = e.find("hostID");
    const Value* s = e.find("size");
    if (!c || !h || !s) return Error::msg(w + ": containerID, hostID and size are required");
    m.container_id = BERTH_TRY(get_u32(*c, w + ".containerID"));
    m.host_id = BERTH_TRY(get_u32(*h, w + ".hostID"));
    m.size = BERTH_TRY(get_u32(*s, w + ".size"));
    if (m.size == 0) return Error::msg(w + ".size: must be greater than zero");
    if (uint64_t(m.container_id) + m.size > (1ull << 32) || uint64_t(m.host_id) + m.size > (1ull << 32))
      return Error::msg(w + ": range overflows 32-bit ids");
    for (const auto& o : out)
      if (m.container_id < o.container_id + o.size && o.container_id < m.container_id + m.size)
        return Error::msg(w + ": containerID range overlaps an earlier mapping");
    out.push_back(m);
  }
  return out;
}

struct NsName {
  const char* name;
  int type;
};
constexpr NsName kNamespaces[] = {
    {"pid", CLONE_NEWPID},     {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
    {"ipc", CLONE_NEWIPC},     {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

struct RlimitName {
  const char* name;
  int resource;
};
constexpr RlimitName kRlimits[] = {
    {"RLIMIT_AS", RLIMIT_AS},           {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},         {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},     {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK}, {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},       {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},     {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},   {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING}, {"RLIMIT_STACK", RLIMIT_STACK},
};

Result<std::vector<int>> parse_cap_list(const Value& v, const std::string& where) {
  auto names = BERTH_TRY(get_strings(v, where));
  std::vector<int> out;
  for (size_t i = 0; i < names.size(); ++i) {
    int c = capability_from_name(names[i]);
    if (c < 0) return Error::msg(idx(where, i) + ": unknown capability " + names[i]);
    out.push_back(c);
  }
  return out;
}

Result<Capabilities> parse_caps(const Value& v, const std::string& where) {
  BERTH_TRY(expect_object(v, where));
  Capabilities c;
  if (auto* p = v.find("bounding")) c.bounding = BERTH_TRY(parse_cap_list(*p, where + ".bounding"));
  if (auto* p = v.find("effective")) c.effective = BERTH_TRY(parse_cap_list(*p, where + ".effective"));
  if (auto* p = v.find("inheritable")) c.inheritable = BERTH_TRY(parse_cap_list(*p, where + ".inheritable"));
  if (auto* p = v.find("permitted")) c.permitted = BERTH_TRY(parse_cap_list(*p, where + ".permitted"));
  if (auto* p = v.find("ambient")) c.ambient = BERTH_TRY(parse_cap_list(*p, where + ".ambient"));
  return c;
}

Result<User> parse_user(const Value& v, const std::string& where) {
  BERTH_TRY(expect_object(v, where));
  User u;
  if (auto* p = v.find("uid")) u.uid = BERTH_TRY(get_u32(*p, where + ".uid"));
  if (auto* p = v.find("gid")) u.gid = BERTH_TRY(get_u32(*p, where + ".gid"));
  if (auto* p = v.find("umask")) {
    uint32_t m = BERTH_TRY(get_u32(*p, where + ".umask"));
    if (m > 0777) return Error::msg(where + ".umask: must be at most 0777");
    u.umask = m;
  }
  if (auto* p = v.find("additionalGids")) {
    if (!p->is_array()) return type_error(where + ".additionalGids", "array", *p);
    for (size_t i = 0; i < p->as_array().size(); ++i)
      u.additional_gids.push_back(BERTH_TRY(get_u32(p->as_array()[i], idx(where + ".additionalGids", i))));
  }
  if (auto* p = v.find("username")) u.username = BERTH_TRY(get_string(*p, where + ".username"));
  return u;
}

Result<std::vector<Rlimit>> parse_rlimits(const Value& v, const std::string& where) {
  if (!v.is_array()) return type_error(where, "array", v);
  std::vector<Rlimit> out;
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const Value& e = v.as_array()[i];
    std::string w = idx(where, i);
    BERTH_TRY(expect_object(e, w));
    Rlimit r;
    const Value* t = e.find("type");
    if (!t) return Error::msg(w + ".type: required");
    r.type = BERTH_TRY(get_string(*t, w + ".type"));
    r.resource = -1;
    for (const auto& n : kRlimits)
      if (r.type == n.name) r.resource = n.resource;
    if (r.resource < 0) return Error::msg(w + ".type: unknown rlimit " + r.type);
    for (const auto& o : out)
      if (o.resource == r.resource) return Error::msg(w + ".type: duplicate rlimit " + r.type);
    if (auto* p = e.find("hard")) r.hard = BERTH_TRY(get_uint(*p, w + ".hard"));
    if (auto* p = e.find("soft")) r.soft = BERTH_TRY(get_uint(*p, w + ".soft"));
    if (r.soft > r.hard) return Error::msg(w + ": soft limit exceeds hard limit");
    out.push_back(r);
  }
  return out;
}

Result<Hook> parse_hook(const Value& v, const std::string& where) {
  BERTH_TRY(expect_object(v, where));
  Hook h;
  const Value* p = v.find("path");
  if (!p) return Error::msg(where + ".path: required");
  h.path = BERTH_TRY(get_string(*p, where + ".path"));
  if (h.path.empty() || h.path[0] != '/') return Error::msg(where + ".path: must be absolute: " + h.path);
  if (auto* a = v.find("args")) h.args = BERTH_TRY(get_strings(*a, where + ".args"));
  if (auto* e = v.find("env")) h.env = BERTH_TRY(get_strings(*e, where + ".env"));
  if (auto* t = v.find("timeout")) {
    int64_t n = BERTH_TRY(get_int(*t, where + ".timeout"));
    if (n <= 0) return Error::msg(where + ".timeout: must be positive");
    h.timeout = static_cast<int>(n);
  }
  return h;
}

Result<std::vector<Hook>> parse_hook_list(const Value& v, const std::string& where) {
  if (!v.is_array()) return type_error(where, "array", v);
  std::vector<Hook> out;
  for (size_t i = 0; i < v.as_array().size(); ++i) out.push_back(BERTH_TRY(parse_hook(v.as_array()[i], idx(where, i))));
  return out;
}

Result<Hooks> parse_hooks(const Value& v) {
  BERTH_TRY(expect_object(v, "hooks"));
  Hooks h;
  struct {
    const char* name;
    std::vector<Hook>* list;
  } kinds[] = {{"prestart", &h.prestart},           {"createRuntime", &h.create_runtime},
               {"createContainer", &h.create_container}, {"startContainer", &h.start_container},
               {"poststart", &h.poststart},         {"poststop", &h.poststop}};
  for (auto& k : kinds)
    if (auto* p = v.find(k.name)) *k.list = BERTH_TRY(parse_hook_list(*p, std::string("hooks.") + k.name));
  return h;
}

Result<Mount> parse_mount(const Value& v, const std::string& where) {
  BERTH_TRY(expect_object(v, where));
  Mount m;
  const Value* d = v.find("destination");
  if (!d) return Error::msg(where + ".destination: required");
  m.destination = BERTH_TRY(get_string(*d, where + ".destination"));
  if (m.destination.empty()) return Error::msg(where + ".destination: must not be empty");
  if (m.destination[0] != '/') m.destination = "/" + m.destination;
  if (auto* p = v.find("type")) m.type = BERTH_TRY(get_string(*p, where + ".type"));
  if (auto* p = v.find("source")) m.source = BERTH_TRY(get_string(*p, where + ".source"));
  if (auto* p = v.find("options")) m.options = BERTH_TRY(get_strings(*p, where + ".options"));
  if (auto* p = v.find("uidMappings")) m.uid_mappings = BERTH_TRY(parse_mappings(*p, where + ".uidMappings"));
  if (auto* p = v.find("gidMappings")) m.gid_mappings = BERTH_TRY(parse_mappings(*p, where + ".gidMappings"));
  BERTH_TRY(parse_mount_options(m, where));
  if (m.type == "bind") m.bind = true;
  if (!m.uid_mappings.empty() || !m.gid_mappings.empty()) m.idmap = true;
  if (m.idmap && !m.bind) return Error::msg(where + ": uidMappings/gidMappings need a bind mount");
  // A bare "idmap" option takes the container's mappings (checked at create).
  if (m.uid_mappings.empty() != m.gid_mappings.empty())
    return Error::msg(where + ": an idmapped mount needs both uidMappings and gidMappings");
  return m;
}

Result<Device> parse_device(const Value& v, const std::string& where) {
  BERTH_TRY(expect_object(v, where));
  Device d;
  const Value* t = v.find("type");
  const Value* p = v.find("path");
  if (!t) return Error::msg(where + ".type: required");
  if (!p) return Error::msg(where + ".path: required");
  std::string type = BERTH_TRY(get_string(*t, where + ".type"));
  if (type.size() != 1 || std::strchr("cbup", type[0]) == nullptr)
    return Error::msg(where + ".type: expected one of c, b, u, p, got " + type);
  d.type = type[0];
  d.path = BERTH_TRY(get_string(*p, where + ".path"));
  if (d.path.empty() || d.path[0] != '/') return Error::msg(where + ".path: must be absolute: " + d.path);
  if (d.type != 'p') {
    const Value* ma = v.find("major");
    const Value* mi = v.find("minor");
    if (!ma || !mi) return Error::msg(where + ": major and minor are required for type " + type);
    d.major = BERTH_TRY(get_int(*ma, where + ".major"));
    d.minor = BERTH_TRY(get_int(*mi, where + ".minor"));
  }
  if (auto* q = v.find("fileMode")) d.file_mode = BERTH_TRY(get_u32(*q, where + ".fileMode"));
  if (auto* q = v.find("uid")) d.uid = BERTH_TRY(get_u32(*q, where + ".uid"));
  if (auto* q = v.find("gid")) d.gid = BERTH_TRY(get_u32(*q, where + ".gid"));
  return d;
}

Result<Seccomp> parse_seccomp(const Value& v) {
  const std::string w = "linux.seccomp";
  BERTH_TRY(expect_object(v, w));
  Seccomp s;
  const Value* da = v.find("defaultAction");
  if (!da) return Error::msg(w + ".defaultAction: required");
  s.default_action = BERTH_TRY(get_string(*da, w + ".defaultAction"));
  if (auto* p = v.find("defaultErrnoRet")) s.default_errno_ret = BERTH_TRY(get_u32(*p, w + ".defaultErrnoRet"));
  if (auto* p = v.find("architectures")) s.architectures = BERTH_TRY(get_strings(*p, w + ".architectures"));
  if (auto* p = v.find("flags")) s.flags = BERTH_TRY(get_strings(*p, w + ".flags"));
  if (auto* p = v.find("listenerPath")) s.listener_path = BERTH_TRY(get_string(*p, w + ".listenerPath"));
  if (auto* p = v.find("listenerMetadata")) s.listener_metadata = BERTH_TRY(get_string(*p, w + ".listenerMetadata"));
  if (auto* p = v.find("syscalls")) {
    if (!p->is_array()) return type_error(w + ".syscalls", "array", *p);
    for (size_t i = 0; i < p->as_array().size(); ++i) {
      const Value& e = p->as_array()[i];
      std::string ws = idx(w + ".syscalls", i);
      BERTH_TRY(expect_object(e, ws));
      SeccompRule r;
      const Value* names = e.find("names");
      const Value* act = e.find("action");
      if (!names) return Error::msg(ws + ".names: required");
      if (!act) return Error::msg(ws + ".action: required");
      r.names = BERTH_TRY(get_strings(*names, ws + ".names"));
      r.action = BERTH_TRY(get_string(*act, ws + ".action"));
      if (auto* q = e.find("errnoRet")) r.errno_ret = BERTH_TRY(get_u32(*q, ws + ".errnoRet"));
      if (auto* q = e.find("args")) {
        if (!q->is_array()) return type_error(ws + ".args", "array", *q);
        for (size_t j = 0; j < q->as_array().size(); ++j) {
          const Value& a = q->as_array()[j];
          std::string wa = idx(ws + ".args", j);
          BERTH_TRY(expect_object(a, wa));
          SeccompArg arg;
          if (auto* x = a.find("index")) arg.index = BERTH_TRY(get_u32(*x, wa + ".index"));
          if (arg.index > 5) return Error::msg(wa + ".index: must be 0..5");
          if (auto* x = a.find("value")) arg.value = BERTH_TRY(get_uint(*x, wa + ".value"));
          if (auto* x = a.find("valueTwo")) arg.value_two = BERTH_TRY(get_uint(*x, wa + ".valueTwo"));
          const Value* op = a.find("op");
          if (!op) return Error::msg(wa + ".op: required");
          arg.op = BERTH_TRY(get_string(*op, wa + ".op"));
          r.args.push_back(arg);
        }
      }
      s.syscalls.push_back(std::move(r));
    }
  }
  bool uses_notify = s.default_action == "SCMP_ACT_NOTIFY";
  for (const auto& r : s.syscalls) uses_notify |= r.action == "SCMP_ACT_NOTIFY";
  if (uses_notify && s.listener_path.empty())
    return Error::msg(w + ".listenerPath: required when an action is SCMP_ACT_NOTIFY");
  return s;
}

Result<Linux> parse_linux(const Value& v) {
  BERTH_TRY(expect_object(v, "linux"));
  Linux l;
  if (auto* p = v.find("namespaces")) {
    if (!p->is_array()) return type_error("linux.namespaces", "array", *p);
    for (size_t i = 0; i < p->as_array().size(); ++i) {
      const Value& e = p->as_array()[i];
      std::string w = idx("linux.namespaces", i);
      BERTH_TRY(expect_object(e, w));
      const Value* t = e.find("type");
      if (!t) return Error::msg(w + ".type: required");
      Namespace ns;
      ns.name = BERTH_TRY(get_string(*t, w + ".type"));
      for (const auto& n : kNamespaces)
        if (ns.name == n.name) ns.type = n.type;
      if (ns.type == 0) return Error::msg(w + ".type: unknown namespace " + ns.name);
      if (auto* q = e.find("path")) ns.path = BERTH_TRY(get_string(*q, w + ".path"));
      for (const auto& o : l.namespaces)
        if (o.type == ns.type) return Error::msg(w + ".type: duplicate namespace " + ns.name);
      l.namespaces.push_back(std::move(ns));
    }
  }
  if (auto* p = v.find("uidMappings")) l.uid_mappings = BERTH_TRY(parse_mappings(*p, "linux.uidMappings"));
  if (auto* p = v.find("gidMappings")) l.gid_mappings = BERTH_TRY(parse_mappings(*p, "linux.gidMappings"));
  if (auto* p = v.find("devices")) {
    if (!p->is_array()) return type_error("linux.devices", "array", *p);
    for (size_t i = 0; i < p->as_array().size(); ++i)
      l.devices.push_back(BERTH_TRY(parse_device(p->as_array()[i], idx("linux.devices", i))));
  }
  if (auto* p = v.find("cgroupsPath")) l.cgroups_path = BERTH_TRY(get_string(*p, "linux.cgroupsPath"));
  if (auto* p = v.find("resources")) l.resources = BERTH_TRY(cgroups::parse_resources(*p, "linux.resources"));
  if (auto* p = v.find("rootfsPropagation")) {
    l.rootfs_propagation = BERTH_TRY(get_string(*p, "linux.rootfsPropagation"));
    static const char* ok[] = {"", "private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"};
    bool found = false;
    for (auto* o : ok) found |= l.rootfs_propagation == o;
    if (!found) return Error::msg("linux.rootfsPropagation: unknown propagation " + l.rootfs_propagation);
  }
  if (auto* p = v.find("maskedPaths")) l.masked_paths = BERTH_TRY(get_strings(*p, "linux.maskedPaths"));
  if (auto* p = v.find("readonlyPaths")) l.readonly_paths = BERTH_TRY(get_strings(*p, "linux.readonlyPaths"));
  if (auto* p = v.find("mountLabel")) l.mount_label = BERTH_TRY(get_string(*p, "linux.mountLabel"));
  if (auto* p = v.find("sysctl")) {
    BERTH_TRY(expect_object(*p, "linux.sysctl"));
    for (const auto& [k, val] : p->as_object()) l.sysctl[k] = BERTH_TRY(get_string(val, "linux.sysctl." + k));
  }
  if (auto* p = v.find("seccomp")) l.seccomp = BERTH_TRY(parse_seccomp(*p));
  if (auto* p = v.find("personality")) {
    BERTH_TRY(expect_object(*p, "linux.personality"));
    const Value* d = p->find("domain");
    if (!d) return Error::msg("linux.personality.domain: required");
    std::string dom = BERTH_TRY(get_string(*d, "linux.personality.domain"));
    if (dom != "LINUX" && dom != "LINUX32") return Error::msg("linux.personality.domain: unknown domain " + dom);
    l.personality = dom;
  }
  if (auto* p = v.find("timeOffsets")) {
    BERTH_TRY(expect_object(*p, "linux.timeOffsets"));
    for (const auto& [k, val] : p->as_object()) {
      std::string w = "linux.timeOffsets." + k;
      if (k != "monotonic" && k != "boottime") return Error::msg(w + ": unknown clock");
      BERTH_TRY(expect_object(val, w));
      int64_t secs = 0;
      uint32_t ns = 0;
      if (auto* q = val.find("secs")) secs = BERTH_TRY(get_int(*q, w + ".secs"));
      if (auto* q = val.find("nanosecs")) ns = BERTH_TRY(get_u32(*q, w + ".nanosecs"));
      l.time_offsets[k] = {secs, ns};
    }
  }
  if (v.find("intelRdt")) l.intel_rdt = true;
  return l;
}

}  // namespace

bool Spec::has_namespace(int type) const { return find_namespace(type) != nullptr; }

const Namespace* Spec::find_namespace(int type) const {
  for (const auto& n : linux.namespaces)
    if (n.type == type) return &n;
  return nullptr;
}

Result<Process> parse_process(const Value& v, const std::string& where) {
  BERTH_TRY(expect_object(v, where));
  Process p;
  if (auto* q = v.find("terminal")) p.terminal = BERTH_TRY(get_bool(*q, where + ".terminal"));
  if (auto* q = v.find("consoleSize")) {
    BERTH_TRY(expect_object(*q, where + ".consoleSize"));
    unsigned h = 0, w = 0;
    if (auto* x = q->find("height")) h = BERTH_TRY(get_u32(*x, where + ".consoleSize.height"));
    if (auto* x = q->find("width")) w = BERTH_TRY(get_u32(*x, where + ".consoleSize.width"));
    p.console_size = std::make_pair(h, w);
  }
  if (auto* q = v.find("user")) p.user = BERTH_TRY(parse_user(*q, where + ".user"));
  if (auto* q = v.find("args")) p.args = BERTH_TRY(get_strings(*q, where + ".args"));
  if (p.args.empty()) return Error::msg(where + ".args: must name the program to run");
  if (auto* q = v.find("env")) p.env = BERTH_TRY(get_strings(*q, where + ".env"));
  for (size_t i = 0; i < p.env.size(); ++i)
    if (p.env[i].find('=') == std::string::npos || p.env[i][0] == '=')
      return Error::msg(idx(where + ".env", i) + ": expected KEY=value, got " + p.env[i]);
  if (auto* q = v.find("cwd")) p.cwd = BERTH_TRY(get_string(*q, where + ".cwd"));
  if (p.cwd.empty() || p.cwd[0] != '/') return Error::msg(where + ".cwd: must be absolute: " + p.cwd);
  if (auto* q = v.find("capabilities")) p.capabilities = BERTH_TRY(parse_caps(*q, where + ".capabilities"));
  if (auto* q = v.find("rlimits")) p.rlimits = BERTH_TRY(parse_rlimits(*q, where + ".rlimits"));
  if (auto* q = v.find("noNewPrivileges")) p.no_new_privileges = BERTH_TRY(get_bool(*q, where + ".noNewPrivileges"));
  if (auto* q = v.find("apparmorProfile")) p.apparmor_profile = BERTH_TRY(get_string(*q, where + ".apparmorProfile"));
  if (auto* q = v.find("selinuxLabel")) p.selinux_label = BERTH_TRY(get_string(*q, where + ".selinuxLabel"));
  if (auto* q = v.find("oomScoreAdj")) {
    int64_t n = BERTH_TRY(get_int(*q, where + ".oomScoreAdj"));
    if (n < -1000 || n > 1000) return Error::msg(where + ".oomScoreAdj: must be within -1000..1000");
    p.oom_score_adj = static_cast<int>(n);
  }
  if (auto* q = v.find("scheduler")) {
    std::string w = where + ".scheduler";
    BERTH_TRY(expect_object(*q, w));
    Scheduler s;
    const Value* pol = q->find("policy");
    if (!pol) return Error::msg(w + ".policy: required");
    s.policy = BERTH_TRY(get_string(*pol, w + ".policy"));
    if (auto* x = q->find("nice")) s.nice = static_cast<int32_t>(BERTH_TRY(get_int(*x, w + ".nice")));
    if (auto* x = q->find("priority")) s.priority = static_cast<int32_t>(BERTH_TRY(get_int(*x, w + ".priority")));
    if (auto* x = q->find("flags")) s.flags = BERTH_TRY(get_strings(*x, w + ".flags"));
    if (auto* x = q->find("runtime")) s.runtime = BERTH_TRY(get_uint(*x, w + ".runtime"));
    if (auto* x = q->find("deadline")) s.deadline = BERTH_TRY(get_uint(*x, w + ".deadline"));
    if (auto* x = q->find("period")) s.period = BERTH_TRY(get_uint(*x, w + ".period"));
    static const char* policies[] = {"SCHED_OTHER", "SCHED_FIFO", "SCHED_RR", "SCHED_BATCH",
                                     "SCHED_ISO",   "SCHED_IDLE", "SCHED_DEADLINE"};
    bool found = false;
    for (auto* n : policies) found |= s.policy == n;
    if (!found) return Error::msg(w + ".policy: unknown policy " + s.policy);
    p.scheduler = s;
  }
  if (auto* q = v.find("ioPriority")) {
    std::string w = where + ".ioPriority";
    BERTH_TRY(expect_object(*q, w));
    IoPriority io;
    const Value* c = q->find("class");
    if (!c) return Error::msg(w + ".class: required");
    io.klass = BERTH_TRY(get_string(*c, w + ".class"));
    if (io.klass != "IOPRIO_CLASS_RT" && io.klass != "IOPRIO_CLASS_BE" && io.klass != "IOPRIO_CLASS_IDLE")
      return Error::msg(w + ".class: unknown class " + io.klass);
    if (auto* x = q->find("priority")) io.priority = static_cast<int>(BERTH_TRY(get_int(*x, w + ".priority")));
    if (io.priority < 0 || io.priority > 7) return Error::msg(w + ".priority: must be within 0..7");
    p.io_priority = io;
  }
  return p;
}

Result<Spec> parse_spec(std::string_view text, const std::string& bundle) {
  auto doc = json::parse(text);
  if (!doc) return std::move(doc).error().wrap("invalid JSON");
  const Value& v = doc.value();
  if (!v.is_object()) return Error::msg("config.json: expected an object at the top level");
  Spec s;
  const Value* ver = v.find("ociVersion");
  if (!ver) return Error::msg("ociVersion: required");
  s.oci_version = BERTH_TRY(get_string(*ver, "ociVersion"));
  if (s.oci_version.empty() || s.oci_version[0] != '1')
    return Error::msg("ociVersion: unsupported version " + s.oci_version + " (expected 1.x)");
  const Value* root = v.find("root");
  if (!root) return Error::msg("root: required");
  BERTH_TRY(expect_object(*root, "root"));
  const Value* rp = root->find("path");
  if (!rp) return Error::msg("root.path: required");
  s.root_path = BERTH_TRY(get_string(*rp, "root.path"));
  if (s.root_path.empty()) return Error::msg("root.path: must not be empty");
  if (s.root_path[0] != '/') s.root_path = fs::join(bundle, s.root_path);
  if (auto* q = root->find("readonly")) s.root_readonly = BERTH_TRY(get_bool(*q, "root.readonly"));
  if (auto* q = v.find("process")) s.process = BERTH_TRY(parse_process(*q, "process"));
  if (auto* q = v.find("hostname")) s.hostname = BERTH_TRY(get_string(*q, "hostname"));
  if (auto* q = v.find("domainname")) s.domainname = BERTH_TRY(get_string(*q, "domainname"));
  if (auto* q = v.find("mounts")) {
    if (!q->is_array()) return type_error("mounts", "array", *q);
    for (size_t i = 0; i < q->as_array().size(); ++i) s.mounts.push_back(BERTH_TRY(parse_mount(q->as_array()[i], idx("mounts", i))));
  }
  if (auto* q = v.find("hooks")) s.hooks = BERTH_TRY(parse_hooks(*q));
  if (auto* q = v.find("annotations")) {
    BERTH_TRY(expect_object(*q, "annotations"));
    for (const auto& [k, val] : q->as_object()) s.annotations[k] = BERTH_TRY(get_string(val, "annotations." + k));
  }
  if (auto* q = v.find("linux")) s.linux = BERTH_TRY(parse_linux(*q));

  // Cross-field checks.
  bool userns = s.has_namespace(CLONE_NEWUSER);
  if (!userns && (!s.linux.uid_mappings.empty() || !s.linux.gid_mappings.empty()))
    return Error::msg("linux.uidMappings: mappings given without a user namespace");
  const Namespace* uns = s.find_namespace(CLONE_NEWUSER);
  if (uns && uns->path.empty() && (s.linux.uid_mappings.empty() || s.linux.gid_mappings.empty()))
    return Error::msg("linux.uidMappings: a new user namespace needs uidMappings and gidMappings");
  if (!s.hostname.empty() && !s.has_namespace(CLONE_NEWUTS))
    return Error::msg("hostname: setting the hostname needs a new uts namespace");
  if (!s.domainname.empty() && !s.has_namespace(CLONE_NEWUTS))
    return Error::msg("domainname: setting the domainname needs a new uts namespace");
  if (!s.linux.time_offsets.empty()) {
    const Namespace* t = s.find_namespace(CLONE_NEWTIME);
    if (!t || !t->path.empty()) return Error::msg("linux.timeOffsets: needs a new time namespace");
  }
  for (const auto& [k, val] : s.linux.sysctl) {
    (void)val;
    if (k.find("..") != std::string::npos || k.find('/') != std::string::npos)
      return Error::msg("linux.sysctl." + k + ": invalid name");
  }
  return s;
}

}  // namespace berth::runtime
