// api.cpp — decoding API requests into verbs (no I/O).
#include "berth/supervisor/api.h"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <initializer_list>

#include "berth/base/strings.h"

namespace berth::supervisor {

namespace {

struct Target {
  std::vector<std::string> parts;  // path segments
  std::map<std::string, std::string> query;
};

Target split_target(std::string_view t) {
  Target out;
  std::string_view path = t, query;
  if (size_t q = t.find('?'); q != std::string_view::npos) {
    path = t.substr(0, q);
    query = t.substr(q + 1);
  }
  while (!path.empty()) {
    size_t s = path.find('/');
    std::string_view seg = path.substr(0, s);
    if (!seg.empty()) out.parts.emplace_back(seg);
    if (s == std::string_view::npos) break;
    path.remove_prefix(s + 1);
  }
  while (!query.empty()) {
    size_t a = query.find('&');
    std::string_view kv = query.substr(0, a);
    size_t eq = kv.find('=');
    out.query[std::string(kv.substr(0, eq))] = eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1));
    if (a == std::string_view::npos) break;
    query.remove_prefix(a + 1);
  }
  return out;
}

Error bad(int status, std::string msg) { return Error(status, std::move(msg)); }

Result<int> parse_seconds(const std::string& s, const std::string& what) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < 0 || v > 86400)
    return bad(400, what + ": expected seconds 0..86400, got \"" + s + "\"");
  return v;
}

// Options a stop/destroy body may carry: {"force": bool, "timeout": seconds}.
Status decode_stop(Request& r) {
  if (r.body.is_null()) return ok();
  for (const auto& [k, v] : r.body.as_object()) {
    if (k == "force") {
      if (!v.is_bool()) return bad(400, "force: expected true or false");
      r.force = v.as_bool();
    } else if (k == "timeout" && (r.verb == Verb::stop || r.verb == Verb::stop_all)) {
      if (!v.is_uint() || v.as_uint() > 86400) return bad(400, "timeout: expected seconds 0..86400");
      r.timeout = static_cast<int>(v.as_uint());
    } else {
      return bad(400, k + ": unknown field");
    }
  }
  return ok();
}

// A string array field: each entry a string (with `need` in it, when given).
Status decode_string_array(const json::Value& v, const std::string& field, std::vector<std::string>& out,
                           char need = 0) {
  if (!v.is_array()) return bad(400, field + ": expected an array of strings");
  for (size_t i = 0; i < v.as_array().size(); ++i) {
    const json::Value& a = v.as_array()[i];
    std::string at = field + "[" + std::to_string(i) + "]";
    if (!a.is_string()) return bad(400, at + ": expected a string");
    if (need && a.as_string().find(need) == std::string::npos)
      return bad(400, at + ": expected KEY=VALUE, got \"" + a.as_string() + "\"");
    out.push_back(a.as_string());
  }
  return ok();
}

// {"args": [...], "timeout": seconds} runs with output captured (killed
// past the timeout); with "terminal": true (and
// optionally "env", "rows", "cols") on a pty, streamed.
Status decode_exec(Request& r) {
  const json::Value* args = r.body.is_null() ? nullptr : r.body.find("args");
  if (!args || !args->is_array() || args->as_array().empty()) return bad(400, "args: expected a non-empty array of strings");
  const json::Value* terminal = r.body.find("terminal");
  if (terminal && !terminal->is_bool()) return bad(400, "terminal: expected true or false");
  bool tty = terminal && terminal->as_bool();
  for (const auto& [k, _] : r.body.as_object()) {
    if (k == "timeout" && tty) return bad(400, "timeout: only without \"terminal\": true");
    if (k != "args" && k != "terminal" && k != "timeout" && !(tty && (k == "env" || k == "rows" || k == "cols")))
      return bad(400, k + (tty || (k != "env" && k != "rows" && k != "cols") ? ": unknown field" : ": only with \"terminal\": true"));
  }
  BERTH_TRY(decode_string_array(*args, "args", r.args));
  if (const json::Value* t = r.body.find("timeout")) {
    if (!t->is_uint() || t->as_uint() < 1 || t->as_uint() > 86400) return bad(400, "timeout: expected seconds 1..86400");
    r.timeout = static_cast<int>(t->as_uint());
  }
  if (!tty) return ok();
  r.verb = Verb::exec_terminal;
  json::Value req = json::Value::object();
  req.set("args", *args);
  std::vector<std::string> env;
  if (const json::Value* e = r.body.find("env")) BERTH_TRY(decode_string_array(*e, "env", env, '='));
  json::Value env_json = json::Value::array();
  for (auto& e : env) env_json.push_back(std::move(e));
  req.set("env", std::move(env_json));
  for (const char* k : {"rows", "cols"}) {
    const json::Value* v = r.body.find(k);
    if (!v) continue;
    if (!v->is_uint() || v->as_uint() < 1 || v->as_uint() > 65535) return bad(400, std::string(k) + ": expected 1..65535");
    req.set(k, v->as_uint());
  }
  r.body = std::move(req);
  return ok();
}

// A body of string fields, exactly `keys`, into r.args in that order.
Status decode_strings(Request& r, std::initializer_list<const char*> keys) {
  if (r.body.is_null()) return bad(400, std::string(*keys.begin()) + ": missing");
  for (const auto& field : r.body.as_object()) {
    const std::string& k = field.first;
    if (std::find_if(keys.begin(), keys.end(), [&](const char* want) { return k == want; }) == keys.end())
      return bad(400, k + ": unknown field");
  }
  for (const char* k : keys) {
    const json::Value* v = r.body.find(k);
    if (!v || !v->is_string() || v->as_string().empty()) return bad(400, std::string(k) + ": expected a non-empty string");
    r.args.push_back(v->as_string());
  }
  return ok();
}

Result<Verb> container_action(const std::string& a) {
  static const std::map<std::string, Verb> actions = {{"start", Verb::start},     {"stop", Verb::stop},
                                                       {"restart", Verb::restart}, {"suspend", Verb::suspend},
                                                       {"resume", Verb::resume},   {"exec", Verb::exec},
                                                       {"snapshot", Verb::snapshot}, {"rollback", Verb::rollback},
                                                       {"commit", Verb::commit}, {"export", Verb::export_disk}};
  auto it = actions.find(a);
  if (it == actions.end()) return bad(404, "no action " + a);
  return it->second;
}

}  // namespace

Status decode_body(Request& r, std::string_view body) {
  if (body.empty()) return ok();
  auto v = json::parse(body);
  if (!v) return bad(400, "body: " + v.error().what());
  if (!v->is_object()) return bad(400, "body: expected a JSON object");
  r.body = std::move(*v);
  return ok();
}

Result<Settings> decode_settings(const json::Value& body) {
  Settings out;
  if (!body.is_object()) return out;
  for (const auto& [k, v] : body.as_object()) {
    if (k == "ssh_key" || k == "root_password") {
      if (!v.is_string() || v.as_string().empty()) return Error::msg(k + ": expected a non-empty string");
      (k == "ssh_key" ? out.ssh_key : out.root_password) = v.as_string();
      continue;
    }
    out.fields.push_back(BERTH_TRY(json_field(k, v, "")));
  }
  return out;
}

Result<SetRequest> decode_set_request(const json::Value& body) {
  if (!body.is_object() || body.as_object().empty()) return Error::msg("body: expected an object of changes");
  return decode_settings(body);
}

json::Value container_json(const ContainerStatus& c) {
  json::Value o = json::Value::object();
  o.set("name", c.record.name);
  o.set("state", state_name(c.state));
  if (c.init_pid) {
    o.set("init_pid", c.init_pid);
    o.set("monitor_pid", c.monitor_pid);
    o.set("started", static_cast<int64_t>(c.started));
    o.set("uptime", static_cast<int64_t>(::time(nullptr) - c.started));
  }
  if (!c.record.nets.empty()) {
    json::Value a = json::Value::array();
    for (const auto& s : c.addresses) a.push_back(s);
    o.set("addresses", std::move(a));
  }
  o.set("config", record_json(c.record));
  if (c.usage) {
    json::Value r = json::Value::object();
    r.set("cpu_ns", c.usage->cpu_ns);
    r.set("memory_bytes", c.usage->memory_bytes);
    r.set("pids", c.usage->pids);
    o.set("resources", std::move(r));
  }
  if (!c.last_exit.is_null()) o.set("last_exit", c.last_exit);
  return o;
}

json::Value containers_json(const std::vector<ContainerStatus>& all) {
  json::Value a = json::Value::array();
  for (const auto& c : all) a.push_back(container_json(c));
  return a;
}

json::Value set_result_json(const SetResult& r) {
  json::Value live = json::Value::array(), restart = json::Value::array();
  for (const auto& k : r.live) live.push_back(k);
  for (const auto& k : r.restart) restart.push_back(k);
  json::Value o = json::Value::object();
  o.set("live", std::move(live));
  o.set("restart", std::move(restart));
  return o;
}

bool is_operation(Verb v) {
  switch (v) {
    case Verb::create: case Verb::destroy: case Verb::start: case Verb::stop: case Verb::restart:
    case Verb::suspend: case Verb::resume: case Verb::exec: case Verb::set:
    case Verb::snapshot: case Verb::rollback: case Verb::commit: case Verb::build_template:
    case Verb::image_pull: case Verb::image_push: case Verb::image_prune:
    case Verb::stop_all: case Verb::autostart:
      return true;
    default:
      return false;
  }
}

const char* verb_name(Verb v) {
  switch (v) {
    case Verb::create: return "create";
    case Verb::destroy: return "destroy";
    case Verb::start: return "start";
    case Verb::stop: return "stop";
    case Verb::restart: return "restart";
    case Verb::suspend: return "suspend";
    case Verb::resume: return "resume";
    case Verb::exec: return "exec";
    case Verb::set: return "set";
    case Verb::list: return "list";
    case Verb::show: return "show";
    case Verb::snapshot: return "snapshot";
    case Verb::rollback: return "rollback";
    case Verb::commit: return "commit";
    case Verb::export_disk: return "export";
    case Verb::build_template: return "build-template";
    case Verb::image_pull: return "image-pull";
    case Verb::image_push: return "image-push";
    case Verb::image_prune: return "image-prune";
    case Verb::exec_terminal: return "exec-terminal";
    case Verb::stop_all: return "stop-all";
    case Verb::autostart: return "autostart";
    case Verb::trust_list: return "trust-list";
    case Verb::trust_add: return "trust-add";
    case Verb::trust_remove: return "trust-remove";
    case Verb::projects: return "projects";
    case Verb::project_set: return "project-set";
    case Verb::ping: return "ping";
    case Verb::operations: return "operations";
    case Verb::operation: return "operation";
    case Verb::operation_wait: return "operation-wait";
    case Verb::operation_cancel: return "operation-cancel";
    case Verb::events: return "events";
    case Verb::metrics: return "metrics";
    case Verb::log: return "log";
    case Verb::console: return "console";
    case Verb::snapshots: return "snapshots";
    case Verb::images: return "images";
    case Verb::image_inspect: return "image-inspect";
    case Verb::image_remove: return "image-remove";
    case Verb::networks: return "networks";
    case Verb::network_create: return "network-create";
    case Verb::network_remove: return "network-remove";
  }
  return "other";
}

Result<Request> decode_request(std::string_view method, std::string_view target, std::string_view body) {
  if (body.size() > kMaxBody) return bad(413, "body: larger than " + std::to_string(kMaxBody) + " bytes");
  Target t = split_target(target);
  const auto& p = t.parts;
  Request r;
  auto want = [&](std::string_view m) -> Status {
    if (method != m) return bad(405, std::string(method) + " " + std::string(target) + ": expected " + std::string(m));
    return ok();
  };
  if (p.size() == 1 && p[0] == "metrics") {
    BERTH_TRY(want("GET"));
    r.verb = Verb::metrics;
    return r;
  }
  if (p.empty() || p[0] != "v1") return bad(404, "no such path " + std::string(target) + " (the API is under /v1)");
  if (p.size() == 1) {
    BERTH_TRY(want("GET"));
    return r;  // ping
  }
  if (p[1] == "events" && p.size() == 2) {
    BERTH_TRY(want("GET"));
    r.verb = Verb::events;
    // ?type=log,started: only events of those types.
    if (auto it = t.query.find("type"); it != t.query.end()) {
      for (std::string_view type : split(it->second, ',')) {
        if (type.empty()) return bad(400, "type: expected event types separated by commas");
        r.args.emplace_back(type);
      }
    }
    return r;
  }
  if (p[1] == "operations") {
    if (p.size() == 3 && method == "DELETE") {
      r.verb = Verb::operation_cancel;
      r.name = p[2];
      return r;
    }
    BERTH_TRY(want("GET"));
    if (p.size() == 2) r.verb = Verb::operations;
    else if (p.size() == 3) r.verb = Verb::operation;
    else if (p.size() == 4 && p[3] == "wait") r.verb = Verb::operation_wait;
    else return bad(404, "no such path " + std::string(target));
    if (p.size() >= 3) r.name = p[2];
    if (auto it = t.query.find("timeout"); it != t.query.end()) r.timeout = BERTH_TRY(parse_seconds(it->second, "timeout"));
    return r;
  }
  if (p[1] == "images") {
    BERTH_TRY(decode_image_request(r, method, p, body));
    return r;
  }
  if (p[1] == "trust" && p.size() <= 3) {
    BERTH_TRY(decode_body(r, body));
    if (p.size() == 2 && method == "GET") r.verb = Verb::trust_list;
    else if (p.size() == 2 && method == "POST") r.verb = Verb::trust_add;
    else if (p.size() == 3 && method == "DELETE") r.verb = Verb::trust_remove;
    else return bad(405, std::string(method) + " " + std::string(target) + ": expected GET or POST /v1/trust, DELETE /v1/trust/FINGERPRINT");
    if (r.verb == Verb::trust_add && r.body.is_null()) return bad(400, "body: expected the certificate and its role");
    if (p.size() == 3) r.name = p[2];
    return r;
  }
  if (p[1] == "projects" && p.size() <= 3) {
    BERTH_TRY(decode_body(r, body));
    if (p.size() == 2 && method == "GET") r.verb = Verb::projects;
    else if (p.size() == 3 && method == "PATCH") r.verb = Verb::project_set;
    else return bad(405, std::string(method) + " " + std::string(target) + ": expected GET /v1/projects, PATCH /v1/projects/NAME");
    if (r.verb == Verb::project_set && r.body.is_null()) return bad(400, "body: expected the project's limits");
    if (p.size() == 3) r.name = p[2];
    return r;
  }
  if ((p[1] == "stop-all" || p[1] == "autostart") && p.size() == 2) {
    BERTH_TRY(want("POST"));
    BERTH_TRY(decode_body(r, body));
    r.verb = p[1] == "autostart" ? Verb::autostart : Verb::stop_all;
    if (r.verb == Verb::stop_all) BERTH_TRY(decode_stop(r));
    else if (!r.body.is_null() && !r.body.as_object().empty()) return bad(400, r.body.as_object()[0].first + ": unknown field");
    return r;
  }
  if (p[1] == "networks" && (p.size() == 2 || p.size() == 3)) {
    BERTH_TRY(decode_body(r, body));
    if (p.size() == 2 && method == "GET") r.verb = Verb::networks;
    else if (p.size() == 2 && method == "POST") r.verb = Verb::network_create;
    else if (p.size() == 3 && method == "DELETE") r.verb = Verb::network_remove;
    else return bad(405, std::string(method) + " " + std::string(target) + ": expected GET or POST /v1/networks, DELETE /v1/networks/NAME");
    if (r.verb == Verb::network_create && r.body.is_null()) return bad(400, "body: expected the network's settings");
    if (p.size() == 3) r.name = p[2];
    return r;
  }
  if (p[1] != "containers" || p.size() > 4) return bad(404, "no such path " + std::string(target));
  BERTH_TRY(decode_body(r, body));
  if (p.size() == 2) {
    if (method == "GET") r.verb = Verb::list;
    else if (method == "POST") r.verb = Verb::create;
    else return bad(405, std::string(method) + " /v1/containers: expected GET or POST");
    if (r.verb == Verb::create && r.body.is_null()) return bad(400, "body: expected the container's settings");
    return r;
  }
  r.name = p[2];
  if (p.size() == 3) {
    if (method == "GET") r.verb = Verb::show;
    else if (method == "PATCH") r.verb = Verb::set;
    else if (method == "DELETE") r.verb = Verb::destroy;
    else return bad(405, std::string(method) + " /v1/containers/NAME: expected GET, PATCH or DELETE");
    if (r.verb == Verb::set && r.body.is_null()) return bad(400, "body: expected the changes");
    if (r.verb == Verb::destroy) BERTH_TRY(decode_stop(r));
    return r;
  }
  if (p[3] == "log" || p[3] == "console" || p[3] == "snapshots") {
    BERTH_TRY(want("GET"));
    r.verb = p[3] == "log" ? Verb::log : p[3] == "console" ? Verb::console : Verb::snapshots;
    return r;
  }
  BERTH_TRY(want("POST"));
  r.verb = BERTH_TRY(container_action(p[3]));
  if (r.verb == Verb::exec) BERTH_TRY(decode_exec(r));
  else if (r.verb == Verb::snapshot || r.verb == Verb::rollback) BERTH_TRY(decode_strings(r, {"name"}));
  else if (r.verb == Verb::commit) BERTH_TRY(decode_strings(r, {"tag"}));
  else if (r.verb == Verb::stop) BERTH_TRY(decode_stop(r));
  else if (r.verb == Verb::export_disk && !r.body.is_null()) BERTH_TRY(decode_strings(r, {"cluster"}));
  else if (!r.body.is_null() && !r.body.as_object().empty()) return bad(400, r.body.as_object()[0].first + ": unknown field");
  return r;
}

int status_for(const Error& e) {
  switch (e.code()) {
    case ENOENT: return 404;
    case EEXIST: case EALREADY: case EBUSY: case EADDRINUSE: case ECANCELED: return 409;
    case 0: case EINVAL: return 400;
    case ETIMEDOUT: return 504;
    // A registry or token server refused berth's credentials: the request
    // was understood and is refused, not a fault of the daemon.
    case EACCES: case EPERM: return 403;
    case ENOSPC: case EDQUOT: return 507;
    case ENOSYS: case EOPNOTSUPP: return 501;
    case kForbidden: return 403;
    default: return 500;
  }
}

std::string describe(const Error& e) {
  switch (e.code()) {
    case ENOENT: case EEXIST: case EALREADY: case EBUSY: case ETIMEDOUT: case EADDRINUSE: case ECANCELED:
    case kForbidden:
      return e.message();  // berth's own message says it all
    default:
      return e.what();
  }
}

std::string error_body(const Error& e) {
  json::Value o = json::Value::object();
  o.set("error", describe(e));
  return json::dump(o) + "\n";
}

}  // namespace berth::supervisor
