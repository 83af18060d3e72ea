// model.cpp — the JSON records of the cluster model, parsed strictly:
// a field of the wrong type or an unknown key is refused by name.
#include <cmath>
#include <set>

#include "berth/cluster/model.h"

namespace berth::cluster {

Resources& Resources::operator+=(const Resources& o) {
  cpu_milli += o.cpu_milli;
  memory_mb += o.memory_mb;
  disk_gb += o.disk_gb;
  return *this;
}

Resources& Resources::operator-=(const Resources& o) {
  cpu_milli -= o.cpu_milli;
  memory_mb -= o.memory_mb;
  disk_gb -= o.disk_gb;
  return *this;
}

bool Resources::covers(const Resources& r) const {
  return r.cpu_milli <= cpu_milli && r.memory_mb <= memory_mb && r.disk_gb <= disk_gb;
}

std::string Resources::str() const {
  std::string cpus = std::to_string(cpu_milli / 1000);
  if (cpu_milli % 1000) {
    std::string frac = std::to_string(1000 + cpu_milli % 1000).substr(1);
    while (frac.back() == '0') frac.pop_back();
    cpus += "." + frac;
  }
  return cpus + " cpus, " + std::to_string(memory_mb) + " MiB, " + std::to_string(disk_gb) + " GiB";
}

Keys::Keys(std::string prefix) : p_(std::move(prefix)) {
  if (p_.empty() || p_.back() != '/') p_ += '/';
}

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '-' && c != '_'))) return false;
  }
  return true;
}

const char* strategy_name(Strategy s) { return s == Strategy::binpack ? "binpack" : "spread"; }

namespace {

// Walks one JSON object, refusing members the caller did not ask for.
class Fields {
public:
  Fields(const json::Value& v, std::string where) : v_(v), where_(std::move(where)) {}

  Status object() const {
    if (!v_.is_object())
      return Error::msg((where_.empty() ? "" : where_ + ": ") + "expected an object, got " +
                        json::Value::type_name(v_.type()));
    return ok();
  }
  const json::Value* get(std::string_view k) {
    seen_.insert(std::string(k));
    return v_.find(k);
  }
  std::string at(std::string_view k) const { return where_.empty() ? std::string(k) : where_ + "." + std::string(k); }
  Result<std::string> str(std::string_view k, bool required) {
    const json::Value* f = get(k);
    if (!f) {
      if (required) return Error::msg(at(k) + ": required");
      return std::string();
    }
    if (!f->is_string()) return Error::msg(at(k) + ": expected a string");
    return f->as_string();
  }
  Result<int64_t> integer(std::string_view k, bool required, int64_t lo, int64_t hi) {
    const json::Value* f = get(k);
    if (!f) {
      if (required) return Error::msg(at(k) + ": required");
      return int64_t{0};
    }
    if (!f->is_int()) return Error::msg(at(k) + ": expected an integer");
    if (f->as_int() < lo || f->as_int() > hi)
      return Error::msg(at(k) + ": " + std::to_string(f->as_int()) + " is out of range [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "]");
    return f->as_int();
  }
  Result<std::map<std::string, std::string>> labels(std::string_view k) {
    std::map<std::string, std::string> out;
    const json::Value* f = get(k);
    if (!f) return out;
    if (!f->is_object()) return Error::msg(at(k) + ": expected an object of strings");
    for (const auto& [name, val] : f->as_object()) {
      if (!val.is_string()) return Error::msg(at(k) + "." + name + ": expected a string");
      if (name.empty()) return Error::msg(at(k) + ": empty label name");
      out[name] = val.as_string();
    }
    return out;
  }
  Status no_unknown() const {
    for (const auto& [k, _] : v_.as_object())
      if (!seen_.count(k)) return Error::msg(at(k) + ": unknown key");
    return ok();
  }

private:
  const json::Value& v_;
  std::string where_;
  std::set<std::string> seen_;
};

Result<json::Value> parse_doc(std::string_view text, std::string_view what) {
  auto doc = json::parse(text);
  if (!doc) return doc.error().wrap(what);
  return doc;
}

json::Value labels_json(const std::map<std::string, std::string>& m) {
  json::Value v = json::Value::object();
  for (const auto& [k, x] : m) v.set(k, x);
  return v;
}

constexpr int64_t kMaxCpuMilli = 4096 * 1000;
constexpr int64_t kMaxMemoryMb = int64_t{64} << 20;  // 64 TiB
constexpr int64_t kMaxDiskGb = int64_t{1} << 20;     // 1 PiB

}  // namespace

json::Value to_json(const Resources& r) {
  json::Value v = json::Value::object();
  if (r.cpu_milli % 1000 == 0) v.set("cpus", r.cpu_milli / 1000);
  else v.set("cpus", static_cast<double>(r.cpu_milli) / 1000.0);
  v.set("memory_mb", r.memory_mb);
  v.set("disk_gb", r.disk_gb);
  return v;
}

Result<Resources> resources_from(const json::Value& v, std::string_view where) {
  Fields f(v, std::string(where));
  BERTH_TRY(f.object());
  Resources r;
  const json::Value* cpus = f.get("cpus");
  if (!cpus) return Error::msg(f.at("cpus") + ": required");
  if (!cpus->is_number()) return Error::msg(f.at("cpus") + ": expected a number");
  double c = cpus->as_double();
  if (!(c > 0) || c * 1000 > kMaxCpuMilli)
    return Error::msg(f.at("cpus") + ": must be more than 0 and at most " + std::to_string(kMaxCpuMilli / 1000));
  r.cpu_milli = static_cast<int64_t>(std::llround(c * 1000));
  if (r.cpu_milli == 0) return Error::msg(f.at("cpus") + ": less than a thousandth of a cpu");
  r.memory_mb = BERTH_TRY(f.integer("memory_mb", true, 1, kMaxMemoryMb));
  r.disk_gb = BERTH_TRY(f.integer("disk_gb", false, 0, kMaxDiskGb));
  BERTH_TRY(f.no_unknown());
  return r;
}

namespace {

json::Value strings_json(const std::vector<std::string>& list) {
  json::Value a = json::Value::array();
  for (const auto& x : list) a.push_back(x);
  return a;
}

// An optional array of strings.
Result<std::vector<std::string>> strings_from(const json::Value* v, const char* key) {
  std::vector<std::string> out;
  if (!v) return out;
  if (!v->is_array()) return Error::msg(std::string(key) + ": expected an array of strings");
  for (const auto& x : v->as_array()) {
    if (!x.is_string()) return Error::msg(std::string(key) + ": expected an array of strings");
    out.push_back(x.as_string());
  }
  return out;
}

}  // namespace

json::Value to_json(const NodeSpec& n) {
  json::Value v = json::Value::object();
  v.set("id", n.id);
  v.set("labels", labels_json(n.labels));
  v.set("capacity", to_json(n.capacity));
  v.set("templates", strings_json(n.templates));
  if (!n.networks.empty()) v.set("networks", strings_json(n.networks));
  if (!n.address.empty()) v.set("address", n.address);
  if (n.fence_grace_ms > 0) v.set("fence_grace_ms", n.fence_grace_ms);
  return v;
}

Result<NodeSpec> node_spec_from(std::string_view text) {
  auto doc = BERTH_TRY(parse_doc(text, "node spec"));
  Fields f(doc, "");
  BERTH_TRY_CTX(f.object(), "node spec");
  NodeSpec n;
  n.id = BERTH_TRY_CTX(f.str("id", true), "node spec");
  if (!valid_name(n.id)) return Error::msg("node spec: id: \"" + n.id + "\" is not a valid name");
  n.labels = BERTH_TRY_CTX(f.labels("labels"), "node spec");
  const json::Value* cap = f.get("capacity");
  if (!cap) return Error::msg("node spec: capacity: required");
  n.capacity = BERTH_TRY_CTX(resources_from(*cap, "capacity"), "node spec");
  n.templates = BERTH_TRY_CTX(strings_from(f.get("templates"), "templates"), "node spec");
  n.networks = BERTH_TRY_CTX(strings_from(f.get("networks"), "networks"), "node spec");
  n.address = BERTH_TRY_CTX(f.str("address", false), "node spec");
  n.fence_grace_ms = BERTH_TRY_CTX(f.integer("fence_grace_ms", false, 0, 86400000), "node spec");
  return n;  // unknown keys are kept for newer agents
}

json::Value to_json(const ContainerRec& c) {
  json::Value v = json::Value::object();
  v.set("id", c.id);
  v.set("env", c.env);
  v.set("role", c.role);
  v.set("template", c.tmpl);
  if (!c.network.empty()) v.set("network", c.network);
  v.set("resources", to_json(c.resources));
  v.set("node", c.node);
  if (!c.from.empty()) {
    v.set("from", c.from);
    v.set("from_address", c.from_address);
  }
  return v;
}

Result<ContainerRec> container_from(std::string_view text) {
  auto doc = BERTH_TRY(parse_doc(text, "container"));
  Fields f(doc, "");
  BERTH_TRY_CTX(f.object(), "container");
  ContainerRec c;
  c.id = BERTH_TRY_CTX(f.str("id", true), "container");
  c.env = BERTH_TRY_CTX(f.str("env", true), "container " + c.id);
  c.role = BERTH_TRY_CTX(f.str("role", true), "container " + c.id);
  c.tmpl = BERTH_TRY_CTX(f.str("template", true), "container " + c.id);
  c.network = BERTH_TRY_CTX(f.str("network", false), "container " + c.id);
  c.node = BERTH_TRY_CTX(f.str("node", true), "container " + c.id);
  c.from = BERTH_TRY_CTX(f.str("from", false), "container " + c.id);
  c.from_address = BERTH_TRY_CTX(f.str("from_address", false), "container " + c.id);
  if (!c.from.empty() && c.from == c.node) return Error::msg("container " + c.id + ": from: the node it is on");
  const json::Value* r = f.get("resources");
  if (!r) return Error::msg("container " + c.id + ": resources: required");
  c.resources = BERTH_TRY_CTX(resources_from(*r, "resources"), "container " + c.id);
  return c;
}

json::Value to_json(const NodeStatus& s) {
  json::Value all = json::Value::object();
  for (const auto& [id, c] : s) {
    json::Value v = json::Value::object();
    v.set("state", c.state);
    if (!c.error.empty()) v.set("error", c.error);
    if (!c.since.empty()) v.set("since", c.since);
    all.set(id, std::move(v));
  }
  json::Value v = json::Value::object();
  v.set("containers", std::move(all));
  return v;
}

Result<NodeStatus> node_status_from(std::string_view text) {
  auto doc = BERTH_TRY(parse_doc(text, "node status"));
  Fields f(doc, "");
  BERTH_TRY_CTX(f.object(), "node status");
  NodeStatus out;
  const json::Value* all = f.get("containers");
  if (!all) return out;
  if (!all->is_object()) return Error::msg("node status: containers: expected an object");
  for (const auto& [id, v] : all->as_object()) {
    Fields c(v, "containers." + id);
    BERTH_TRY_CTX(c.object(), "node status");
    ContainerStatus st;
    st.state = BERTH_TRY_CTX(c.str("state", true), "node status");
    st.error = BERTH_TRY_CTX(c.str("error", false), "node status");
    st.since = BERTH_TRY_CTX(c.str("since", false), "node status");
    out[id] = std::move(st);
  }
  return out;
}

json::Value to_json(const Environment& e) {
  json::Value v = json::Value::object();
  v.set("name", e.name);
  v.set("strategy", strategy_name(e.strategy));
  json::Value roles = json::Value::array();
  for (const auto& r : e.roles) {
    json::Value x = json::Value::object();
    x.set("name", r.name);
    x.set("template", r.tmpl);
    x.set("count", r.count);
    x.set("resources", to_json(r.resources));
    if (!r.network.empty()) x.set("network", r.network);
    json::Value p = json::Value::object();
    if (r.placement.anti_affinity) p.set("anti_affinity", true);
    if (!r.placement.labels.empty()) p.set("labels", labels_json(r.placement.labels));
    if (!p.as_object().empty()) x.set("placement", std::move(p));
    roles.push_back(std::move(x));
  }
  v.set("roles", std::move(roles));
  return v;
}

namespace {

Result<Role> role_from(const json::Value& v, const std::string& where) {
  Fields f(v, where);
  BERTH_TRY(f.object());
  Role r;
  r.name = BERTH_TRY(f.str("name", true));
  if (!valid_name(r.name))
    return Error::msg(f.at("name") + ": \"" + r.name + "\" is not a valid name ([a-z0-9][a-z0-9_-]*)");
  r.tmpl = BERTH_TRY(f.str("template", true));
  if (r.tmpl.empty()) return Error::msg(f.at("template") + ": empty");
  r.count = BERTH_TRY(f.integer("count", true, 0, 100000));
  const json::Value* res = f.get("resources");
  if (!res) return Error::msg(f.at("resources") + ": required");
  r.resources = BERTH_TRY(resources_from(*res, f.at("resources")));
  r.network = BERTH_TRY(f.str("network", false));
  if (const json::Value* p = f.get("placement")) {
    Fields pf(*p, f.at("placement"));
    BERTH_TRY(pf.object());
    if (const json::Value* a = pf.get("anti_affinity")) {
      if (!a->is_bool()) return Error::msg(pf.at("anti_affinity") + ": expected true or false");
      r.placement.anti_affinity = a->as_bool();
    }
    r.placement.labels = BERTH_TRY(pf.labels("labels"));
    BERTH_TRY(pf.no_unknown());
  }
  BERTH_TRY(f.no_unknown());
  return r;
}

}  // namespace

Result<Environment> environment_from(std::string_view text) {
  auto doc = BERTH_TRY(parse_doc(text, "environment"));
  Fields f(doc, "");
  BERTH_TRY(f.object());
  Environment e;
  e.name = BERTH_TRY(f.str("name", true));
  if (!valid_name(e.name)) return Error::msg("name: \"" + e.name + "\" is not a valid name ([a-z0-9][a-z0-9_-]*)");
  std::string strategy = BERTH_TRY(f.str("strategy", false));
  if (strategy == "binpack") e.strategy = Strategy::binpack;
  else if (!strategy.empty() && strategy != "spread")
    return Error::msg("strategy: expected spread or binpack, got \"" + strategy + "\"");
  const json::Value* roles = f.get("roles");
  if (!roles) return Error::msg("roles: required");
  if (!roles->is_array() || roles->as_array().empty()) return Error::msg("roles: expected a non-empty array");
  std::set<std::string> names;
  for (size_t i = 0; i < roles->as_array().size(); ++i) {
    std::string where = "roles[" + std::to_string(i) + "]";
    Role r = BERTH_TRY(role_from(roles->as_array()[i], where));
    if (!names.insert(r.name).second) return Error::msg(where + ".name: duplicate role \"" + r.name + "\"");
    e.roles.push_back(std::move(r));
  }
  BERTH_TRY(f.no_unknown());
  return e;
}

}  // namespace berth::cluster
