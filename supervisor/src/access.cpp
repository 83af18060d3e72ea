// access.cpp — roles, projects, the rule table and the trust store.
#include "berth/supervisor/access.h"

#include <algorithm>
#include <cctype>

#include "berth/base/fs.h"
#include "berth/base/strings.h"

namespace berth::supervisor {

namespace {

Error forbidden(std::string msg) { return Error(kForbidden, std::move(msg)); }

bool is_hex(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c)); });
}

json::Value strings_json(const std::vector<std::string>& v) {
  json::Value a = json::Value::array();
  for (const auto& s : v) a.push_back(s);
  return a;
}

Status decode_projects(const json::Value& v, std::vector<std::string>& out) {
  if (!v.is_array()) return Error::msg("projects: expected an array of project names");
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const json::Value& p = v.as_array()[i];
    std::string at = "projects[" + std::to_string(i) + "]";
    if (!p.is_string()) return Error::msg(at + ": expected a string");
    BERTH_TRY(validate_project(p.as_string(), at));
    out.push_back(p.as_string());
  }
  return ok();
}

std::string join_names(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// A project's limits; unset ones as null when `nulls`, else left out.
json::Value limits_json(const ProjectLimits& l, bool nulls) {
  json::Value v = json::Value::object();
  for (auto [k, slot] : {std::pair{"containers", &l.containers}, {"ram", &l.ram}, {"disk", &l.disk}, {"cpus", &l.cpus}}) {
    if (*slot) v.set(k, **slot);
    else if (nulls) v.set(k, json::Value());
  }
  return v;
}

}  // namespace

const char* role_name(Role r) {
  switch (r) {
    case Role::viewer: return "viewer";
    case Role::operator_: return "operator";
    case Role::admin: return "admin";
    case Role::node: return "node";
  }
  return "?";
}

Result<Role> parse_role(const std::string& text, const std::string& field) {
  for (Role r : {Role::viewer, Role::operator_, Role::admin, Role::node})
    if (text == role_name(r)) return r;
  return Error::msg(field + ": expected viewer, operator, admin or node, got \"" + text + "\"");
}

Status validate_project(const std::string& name, const std::string& field) {
  bool good = !name.empty() && name.size() <= 32 && std::isalnum(static_cast<unsigned char>(name[0]));
  for (char c : name)
    good = good && (std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-');
  if (!good) return Error::msg((field.empty() ? "" : field + ": ") + "expected 1-32 of a-z, 0-9 and '-', got \"" + name + "\"");
  return ok();
}

bool Identity::sees(const std::string& project) const {
  return projects.empty() || std::find(projects.begin(), projects.end(), project) != projects.end();
}

json::Value Identity::audit() const {
  json::Value o = json::Value::object();
  o.set("by", name);
  o.set("role", role_name(role));
  if (!fingerprint.empty()) o.set("fingerprint", fingerprint);
  if (!projects.empty()) o.set("projects", strings_json(projects));
  return o;
}

Role role_needed(Verb v) {
  switch (v) {
    case Verb::ping: case Verb::list: case Verb::show: case Verb::snapshots: case Verb::images:
    case Verb::image_inspect: case Verb::networks: case Verb::operations: case Verb::operation:
    case Verb::operation_wait: case Verb::events: case Verb::metrics: case Verb::log:
    case Verb::projects:
      return Role::viewer;
    case Verb::create: case Verb::destroy: case Verb::start: case Verb::stop: case Verb::restart:
    case Verb::suspend: case Verb::resume: case Verb::exec: case Verb::exec_terminal: case Verb::console:
    case Verb::set: case Verb::snapshot: case Verb::rollback: case Verb::commit: case Verb::export_disk:
    case Verb::operation_cancel: case Verb::image_pull: case Verb::image_push: case Verb::build_template:
      return Role::operator_;
    // Node-wide: shared images and networks, every container at once, and
    // who may use the API.
    case Verb::image_remove: case Verb::image_prune: case Verb::network_create: case Verb::network_remove:
    case Verb::stop_all: case Verb::autostart: case Verb::trust_list: case Verb::trust_add:
    case Verb::trust_remove: case Verb::project_set:
      return Role::admin;
  }
  return Role::admin;
}

// What another node's migration asks: its peers' containers, and the
// disk of a container of its cluster (export checks the cluster id).
bool node_may(const Request& r) {
  return r.verb == Verb::ping || r.verb == Verb::list || (r.verb == Verb::export_disk && !r.args.empty());
}

bool is_mutation(Verb v) {
  if (is_operation(v)) return true;
  switch (v) {
    case Verb::exec_terminal: case Verb::console: case Verb::export_disk: case Verb::operation_cancel:
    case Verb::image_remove: case Verb::network_create: case Verb::network_remove: case Verb::trust_add:
    case Verb::trust_remove: case Verb::project_set:
      return true;
    default:
      return false;
  }
}

std::string image_project(std::string_view tag) {
  if (!tag.starts_with("projects/")) return "";
  tag.remove_prefix(9);
  size_t slash = tag.find('/');
  return slash == std::string_view::npos ? "" : std::string(tag.substr(0, slash));
}

std::string written_tag(const Request& r) {
  if (r.verb == Verb::commit && !r.args.empty()) return r.args[0];
  if (r.verb == Verb::build_template && r.args.size() >= 2) return r.args[1];
  if (r.verb == Verb::image_pull && r.body.is_object()) {
    const json::Value* t = r.body.find("tag");
    if (!t) t = r.body.find("ref");
    if (t && t->is_string()) return t->as_string();
  }
  return "";
}

namespace {

// The image a request reads or creates from: a create's or set's
// template, a push's image, an inspect's reference.
std::string read_tag(const Request& r) {
  const char* key = r.verb == Verb::create ? "template" : r.verb == Verb::image_push ? "image" : nullptr;
  if (key && r.body.is_object())
    if (const json::Value* t = r.body.find(key); t && t->is_string()) return t->as_string();
  if (r.verb == Verb::image_inspect) return r.name;
  return "";
}

// A project-bound client's images: it writes under projects/P/ of one of
// its projects, and reads no other project's.
Status check_image_project(const Identity& who, const Request& r, const std::string& asker) {
  if (who.projects.empty()) return ok();
  if (std::string w = written_tag(r); !w.empty()) {
    std::string p = image_project(w);
    if (p.empty() || !who.sees(p))
      return forbidden(asker + " may not write image " + w + ": its images are projects/" + who.projects[0] + "/...");
  }
  if (std::string t = read_tag(r); !t.empty()) {
    std::string p = image_project(t);
    if (!p.empty() && !who.sees(p)) return forbidden(asker + " may not use image " + t + ": it is project " + p + "'s");
  }
  return ok();
}

}  // namespace

Status authorize(const Identity& who, const Request& r) {
  std::string asker = who.name + " (" + role_name(who.role) + ")";
  if (who.role == Role::node) {
    if (node_may(r)) return ok();
    return forbidden(asker + " may not " + verb_name(r.verb) + ": a node certificate serves migration only");
  }
  Role need = role_needed(r.verb);
  if (static_cast<int>(who.role) < static_cast<int>(need))
    return forbidden(asker + " may not " + verb_name(r.verb) + ": it needs the " + role_name(need) + " role");
  BERTH_TRY(check_image_project(who, r, asker));
  if (who.role == Role::admin) return ok();
  // debootstrap runs the mirror's packages' scripts as root on the node
  // (and a file: mirror is the node's disk): the node's to choose.
  if (r.verb == Verb::build_template && r.body.is_object() && r.body.find("mirror"))
    return forbidden(asker + " may not choose the mirror of a template build: only an admin may");
  if (r.verb != Verb::create && r.verb != Verb::set) return ok();
  // The node's privileged ports (its own sshd's, say) are not a tenant's
  // to take over with a forward.
  // Entries as the record reads them: separated by commas or blanks.
  if (const json::Value* ports = r.body.is_object() ? r.body.find("ports") : nullptr) {
    if (!ports->is_string()) return forbidden(asker + " may not give ports other than as text: only an admin may");
    std::string text = ports->as_string();
    for (char& c : text)
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = ',';
    for (std::string_view entry : split(text, ',')) {
      if (entry.empty()) continue;
      auto parts = split(entry, ':');
      std::string_view node = parts.size() == 3 ? parts[1] : parts.size() == 2 ? parts[0] : std::string_view();
      unsigned n = 0;
      bool digits = !node.empty() && node.size() <= 5;
      for (char c : node) digits = digits && c >= '0' && c <= '9', n = digits ? n * 10 + static_cast<unsigned>(c - '0') : n;
      if (!digits) return forbidden(asker + " may not forward \"" + std::string(entry) + "\": no node port in it");
      if (n < 1024) return forbidden(asker + " may not forward the node's port " + std::string(node) + ": ports below 1024 are an admin's");
    }
  }
  // Fields that reach the host: root's uids, a host directory, another
  // container's id range, the cluster's own containers.
  for (const char* key : {"privileged", "rootfs", "idmap_base", "cluster"}) {
    const json::Value* v = r.body.is_object() ? r.body.find(key) : nullptr;
    bool no = v && ((v->is_bool() && !v->as_bool()) || (v->is_string() && (v->as_string() == "no" || v->as_string() == "false")));
    if (v && !(std::string(key) == "privileged" && no))
      return forbidden(asker + " may not set " + key + ": only an admin may");
  }
  return ok();
}

Result<std::string> project_for_create(const Identity& who, const json::Value& body) {
  const json::Value* p = body.is_object() ? body.find("project") : nullptr;
  if (p) {
    if (!p->is_string()) return Error::msg("project: expected a string");
    BERTH_TRY(validate_project(p->as_string()));
    if (!who.sees(p->as_string()))
      return forbidden(who.name + " may not create in project " + p->as_string() + ": its projects are " +
                       join_names(who.projects));
    return p->as_string();
  }
  if (who.projects.empty()) return std::string(kDefaultProject);
  if (who.projects.size() == 1) return who.projects[0];
  return Error::msg("project: " + who.name + " may create in " + join_names(who.projects) + ": name one");
}

Role unix_role(uint32_t uid, const std::vector<uint32_t>& gids, long admin_gid, long operator_gid) {
  auto in = [&](long g) { return g >= 0 && std::find(gids.begin(), gids.end(), static_cast<uint32_t>(g)) != gids.end(); };
  if (uid == 0 || in(admin_gid)) return Role::admin;
  if (in(operator_gid)) return Role::operator_;
  return Role::viewer;
}

Result<Identity> certificate_identity(const CertSubject& c, const TrustStore& trust) {
  Identity id;
  id.name = "tls:" + c.cn;
  id.fingerprint = c.fingerprint;
  std::string cert = "certificate CN=" + c.cn + " (sha256 " + c.fingerprint.substr(0, 16) + "...)";
  if (auto e = trust.find(c.fingerprint)) {
    id.role = e->role;
    id.projects = e->projects;
    return id;
  }
  std::vector<Role> roles;
  for (const auto& ou : c.ou)
    if (auto r = parse_role(ou)) roles.push_back(*r);
  if (roles.empty())
    return forbidden(cert + " is not trusted: its subject names no role (OU=admin, operator, viewer or node) and "
                     "berth trust add has not registered it");
  if (roles.size() > 1) return forbidden(cert + " names " + std::to_string(roles.size()) + " roles (OU=...): one only");
  id.role = roles[0];
  for (const auto& o : c.o) {
    if (auto st = validate_project(o, "O"); !st) return forbidden(cert + ": " + st.error().message());
    id.projects.push_back(o);
  }
  if (id.role == Role::node && !id.projects.empty()) return forbidden(cert + ": a node certificate serves every project (no O=)");
  return id;
}

Status check_project_limits(const Record& adding, const ProjectLimits& l, const std::vector<Record>& containers) {
  if (l.none()) return ok();
  const std::string& p = adding.project;
  auto cpus_of = [](const Record& r) -> std::optional<uint64_t> {
    if (r.cpus) return *r.cpus;
    if (r.cpu_limit) return (*r.cpu_limit + 99) / 100;
    return std::nullopt;
  };
  auto disk_of = [](const Record& r) { return r.template_tag.empty() ? 0 : r.disk.value_or(kDefaultDisk); };
  if (l.ram && !adding.ram) return forbidden("ram: project " + p + " limits RAM: give the container's ram");
  if (l.cpus && !cpus_of(adding)) return forbidden("cpus: project " + p + " limits CPUs: give the container's cpus");
  uint64_t count = 1, ram = adding.ram.value_or(0), disk = disk_of(adding), cpus = cpus_of(adding).value_or(0);
  for (const Record& r : containers) {
    if (r.project != p || r.name == adding.name) continue;
    ++count;
    ram += r.ram.value_or(0);
    disk += disk_of(r);
    cpus += cpus_of(r).value_or(0);
  }
  auto over = [&](const char* what, const std::optional<uint64_t>& limit, uint64_t use) -> Status {
    if (!limit || use <= *limit) return ok();
    return forbidden(std::string(what) + ": project " + p + " may use " + std::to_string(*limit) + ", this would make " +
                     std::to_string(use));
  };
  BERTH_TRY(over("containers", l.containers, count));
  BERTH_TRY(over("ram", l.ram, ram));
  BERTH_TRY(over("disk", l.disk, disk));
  return over("cpus", l.cpus, cpus);
}

json::Value trust_entry_json(const TrustEntry& e) {
  json::Value o = json::Value::object();
  o.set("fingerprint", e.fingerprint);
  o.set("name", e.name);
  o.set("role", role_name(e.role));
  o.set("projects", strings_json(e.projects));
  return o;
}

Result<TrustEntry> decode_trust_entry(const json::Value& body) {
  if (!body.is_object()) return Error::msg("body: expected the certificate's entry");
  TrustEntry e;
  bool has_role = false;
  for (const auto& [k, v] : body.as_object()) {
    if (k == "role") {
      if (!v.is_string()) return Error::msg("role: expected a string");
      e.role = BERTH_TRY(parse_role(v.as_string()));
      has_role = true;
    } else if (k == "projects") {
      BERTH_TRY(decode_projects(v, e.projects));
    } else if (k == "name" || k == "fingerprint" || k == "certificate") {
      if (!v.is_string() || v.as_string().empty()) return Error::msg(k + ": expected a non-empty string");
      if (k == "name") e.name = v.as_string();
      if (k == "fingerprint") e.fingerprint = v.as_string();
    } else {
      return Error::msg(k + ": unknown field");
    }
  }
  if (!has_role) return Error::msg("role: missing");
  if (e.role == Role::node && !e.projects.empty()) return Error::msg("projects: a node certificate serves every project");
  if (!e.fingerprint.empty() && (e.fingerprint.size() != 64 || !is_hex(e.fingerprint)))
    return Error::msg("fingerprint: expected 64 lower-case hex digits (SHA-256)");
  return e;
}

Status apply_project_limits(ProjectLimits& l, const json::Value& body) {
  if (!body.is_object()) return Error::msg("body: expected the project's limits");
  for (const auto& [k, v] : body.as_object()) {
    std::optional<uint64_t>* slot = k == "containers" ? &l.containers : k == "ram" ? &l.ram : k == "disk" ? &l.disk
                                  : k == "cpus" ? &l.cpus : nullptr;
    if (!slot) return Error::msg(k + ": unknown field");
    if (v.is_null()) {  // null: no limit
      slot->reset();
      continue;
    }
    if (v.is_uint()) *slot = v.as_uint();
    else if (v.is_string() && (k == "ram" || k == "disk")) *slot = BERTH_TRY_CTX(parse_size(v.as_string()), k);
    else return Error::msg(k + (k == "ram" || k == "disk" ? ": expected a size such as 4G" : ": expected a whole number"));
  }
  return ok();
}

Status TrustStore::load(const std::string& path) {
  std::lock_guard lock(mu_);
  path_ = path;
  entries_.clear();
  limits_.clear();
  if (!fs::exists(path)) return ok();
  auto text = BERTH_TRY_CTX(fs::read_file(path), path);
  auto doc = BERTH_TRY_CTX(json::parse(text), path);
  const json::Value* certs = doc.find("certificates");
  if (certs && certs->is_array()) {
    for (size_t i = 0; i < certs->as_array().size(); ++i) {
      auto e = decode_trust_entry(certs->as_array()[i]);
      if (!e) return e.error().wrap(path + ": certificates[" + std::to_string(i) + "]");
      if (e->fingerprint.empty()) return Error::msg(path + ": certificates[" + std::to_string(i) + "]: fingerprint: missing");
      entries_.push_back(std::move(*e));
    }
  }
  if (const json::Value* projects = doc.find("projects"); projects && projects->is_object()) {
    for (const auto& [name, v] : projects->as_object()) {
      BERTH_TRY(validate_project(name, path + ": projects." + name));
      BERTH_TRY_CTX(apply_project_limits(limits_[name], v), path + ": projects." + name);
    }
  }
  return ok();
}

std::optional<TrustEntry> TrustStore::find(const std::string& fingerprint) const {
  std::lock_guard lock(mu_);
  for (const auto& e : entries_)
    if (e.fingerprint == fingerprint) return e;
  return std::nullopt;
}

Status TrustStore::add(TrustEntry e) {
  std::lock_guard lock(mu_);
  auto old = entries_;
  auto it = std::find_if(entries_.begin(), entries_.end(), [&](const TrustEntry& x) { return x.fingerprint == e.fingerprint; });
  if (it != entries_.end()) *it = std::move(e);
  else entries_.push_back(std::move(e));
  if (auto st = save_locked(); !st) {
    entries_ = std::move(old);
    return st;
  }
  return ok();
}

Result<TrustEntry> TrustStore::remove(const std::string& fp) {
  std::lock_guard lock(mu_);
  if (fp.size() < 12 || !is_hex(fp)) return Error::msg("fingerprint: expected at least 12 lower-case hex digits, got \"" + fp + "\"");
  std::vector<size_t> hits;
  for (size_t i = 0; i < entries_.size(); ++i)
    if (entries_[i].fingerprint.compare(0, fp.size(), fp) == 0) hits.push_back(i);
  if (hits.empty()) return Error(ENOENT, "no trusted certificate " + fp);
  if (hits.size() > 1) return Error::msg("fingerprint: " + fp + " names " + std::to_string(hits.size()) + " certificates");
  auto old = entries_;
  TrustEntry gone = entries_[hits[0]];
  entries_.erase(entries_.begin() + static_cast<long>(hits[0]));
  if (auto st = save_locked(); !st) {
    entries_ = std::move(old);
    return st.error();
  }
  return gone;
}

json::Value TrustStore::list() const {
  std::lock_guard lock(mu_);
  json::Value a = json::Value::array();
  for (const auto& e : entries_) a.push_back(trust_entry_json(e));
  return a;
}

Status TrustStore::set_limits(const std::string& project, const ProjectLimits& l) {
  std::lock_guard lock(mu_);
  auto old = limits_;
  limits_[project] = l;
  if (auto st = save_locked(); !st) {
    limits_ = std::move(old);
    return st;
  }
  return ok();
}

ProjectLimits TrustStore::limits(const std::string& project) const {
  std::lock_guard lock(mu_);
  auto it = limits_.find(project);
  return it == limits_.end() ? ProjectLimits{} : it->second;
}

json::Value TrustStore::projects() const {
  std::lock_guard lock(mu_);
  json::Value o = json::Value::object();
  for (const auto& [name, l] : limits_) o.set(name, limits_json(l, true));
  return o;
}

Status TrustStore::save_locked() const {
  json::Value doc = json::Value::object();
  json::Value certs = json::Value::array();
  for (const auto& e : entries_) certs.push_back(trust_entry_json(e));
  doc.set("certificates", std::move(certs));
  json::Value projects = json::Value::object();
  for (const auto& [name, l] : limits_) projects.set(name, limits_json(l, false));
  doc.set("projects", std::move(projects));
  if (path_.empty()) return ok();  // an in-memory store (tests)
  return fs::write_file_atomic(path_, json::dump(doc) + "\n", 0600);
}

}  // namespace berth::supervisor
