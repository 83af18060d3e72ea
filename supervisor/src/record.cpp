// record.cpp — the per-container config file: one table of fields drives
// parsing, writing, API decoding and validation.
#include "berth/supervisor/record.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <functional>

#include "berth/base/strings.h"
#include "berth/supervisor/access.h"

namespace berth::supervisor {

namespace {

Result<uint64_t> parse_uint(const std::string& s, uint64_t min, uint64_t max) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size())
    return Error::msg("expected a non-negative integer, got \"" + s + "\"");
  if (v < min || v > max)
    return Error::msg("expected " + std::to_string(min) + ".." + std::to_string(max) + ", got " + s);
  return v;
}

Result<bool> parse_bool(const std::string& s) {
  if (s == "yes" || s == "true" || s == "1") return true;
  if (s == "no" || s == "false" || s == "0") return false;
  return Error::msg("expected yes or no, got \"" + s + "\"");
}

bool valid_cpuset(const std::string& s) {
  if (s.empty()) return true;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == ',' || c == '-'; }) &&
         std::isdigit(static_cast<unsigned char>(s.front())) && std::isdigit(static_cast<unsigned char>(s.back()));
}

bool valid_hostname(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.'; });
}

// A list field: items separated by spaces or commas; each must pass `good`.
Status set_list(std::vector<std::string>& f, const std::string& v, const std::function<bool(const std::string&)>& good,
                const char* expected) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i <= v.size(); ++i) {
    if (i < v.size() && v[i] != ' ' && v[i] != ',') {
      cur.push_back(v[i]);
      continue;
    }
    if (cur.empty()) continue;
    if (!good(cur)) return Error::msg(std::string("expected ") + expected + ", got \"" + cur + "\"");
    out.push_back(std::move(cur));
    cur.clear();
  }
  f = std::move(out);
  return ok();
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : " ") + s;
  return out;
}

// NETWORK[:ADDRESS[+ADDRESS]]: a network name (letters, digits, - _ .)
// and an IPv4 and/or an IPv6 address (checked against the network by
// node_net).
bool valid_net_entry(const std::string& s) {
  size_t colon = s.find(':');
  std::string net = s.substr(0, colon);
  if (net.empty() || net.size() > 64 || net[0] == '.') return false;
  if (!std::all_of(net.begin(), net.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; }))
    return false;
  if (colon == std::string::npos) return true;
  std::string a = s.substr(colon + 1);
  size_t plus = a.find('+');
  if (plus != std::string::npos && (plus == 0 || plus + 1 == a.size() || a.find('+', plus + 1) != std::string::npos))
    return false;
  return !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '+';
  });
}

bool valid_address(const std::string& s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':'; });
}

std::string opt(const std::optional<uint64_t>& v) { return v ? std::to_string(*v) : ""; }
std::string opt(const std::optional<uint32_t>& v) { return v ? std::to_string(*v) : ""; }

// Sets an optional number; "" clears it.
template <class T>
Status set_opt(std::optional<T>& f, const std::string& v, uint64_t min, uint64_t max) {
  if (v.empty()) return f.reset(), ok();
  f = static_cast<T>(BERTH_TRY(parse_uint(v, min, max)));
  return ok();
}

struct Field {
  const char* key;  // config file key; the API key is its lower case
  std::function<Status(Record&, const std::string&)> set;
  std::function<std::string(const Record&)> get;
  bool live;  // can change on a running container
};

const std::vector<Field>& fields() {
  static const std::vector<Field> table = {
      {"NAME", [](Record& r, const std::string& v) -> Status { BERTH_TRY(validate_name(v)); r.name = v; return ok(); },
       [](const Record& r) { return r.name; }, false},
      {"HOSTNAME",
       [](Record& r, const std::string& v) -> Status {
         if (!v.empty() && !valid_hostname(v)) return Error::msg("expected a host name of [A-Za-z0-9.-], got \"" + v + "\"");
         r.hostname = v;
         return ok();
       },
       [](const Record& r) { return r.hostname; }, false},
      {"ROOTFS",
       [](Record& r, const std::string& v) -> Status {
         if (v.empty() || v.front() != '/') return Error::msg("expected an absolute path, got \"" + v + "\"");
         r.rootfs_source = v;
         return ok();
       },
       [](const Record& r) { return r.rootfs_source; }, false},
      {"TEMPLATE",
       [](Record& r, const std::string& v) -> Status {
         if (v.empty() || v.find_first_of(" \t") != std::string::npos) return Error::msg("expected an image tag, got \"" + v + "\"");
         r.template_tag = v;
         return ok();
       },
       [](const Record& r) { return r.template_tag; }, false},
      {"DISK",
       [](Record& r, const std::string& v) -> Status {
         if (v.empty()) return r.disk.reset(), ok();
         uint64_t b = BERTH_TRY(parse_size(v));
         if (b < (16u << 20) || b > (16ull << 40)) return Error::msg("expected 16M..16T, got " + v);
         r.disk = b;
         return ok();
       },
       [](const Record& r) { return opt(r.disk); }, true},
      {"INIT",
       [](Record& r, const std::string& v) -> Status {
         if (v == "busybox") r.init = InitKind::busybox;
         else if (v == "systemd") r.init = InitKind::systemd;
         else if (v == "app") r.init = InitKind::app;
         else return Error::msg("expected busybox, systemd or app, got \"" + v + "\"");
         return ok();
       },
       [](const Record& r) { return std::string(init_name(r.init)); }, false},
      {"RAM",
       [](Record& r, const std::string& v) -> Status {
         if (v.empty()) return r.ram.reset(), ok();
         uint64_t b = BERTH_TRY(parse_size(v));
         if (b < kMinRam) return Error::msg("expected at least " + std::to_string(kMinRam >> 20) + "M, got " + v);
         r.ram = b;
         return ok();
       },
       [](const Record& r) { return opt(r.ram); }, true},
      {"SWAP",
       [](Record& r, const std::string& v) -> Status {
         if (v.empty()) return r.swap.reset(), ok();
         r.swap = BERTH_TRY(parse_size(v));
         return ok();
       },
       [](const Record& r) { return opt(r.swap); }, true},
      {"CPUS", [](Record& r, const std::string& v) { return set_opt(r.cpus, v, 1, 4096); },
       [](const Record& r) { return opt(r.cpus); }, true},
      {"CPULIMIT", [](Record& r, const std::string& v) { return set_opt(r.cpu_limit, v, 1, 409600); },
       [](const Record& r) { return opt(r.cpu_limit); }, true},
      {"CPUWEIGHT", [](Record& r, const std::string& v) { return set_opt(r.cpu_weight, v, 1, 10000); },
       [](const Record& r) { return opt(r.cpu_weight); }, true},
      {"CPUSET",
       [](Record& r, const std::string& v) -> Status {
         if (!valid_cpuset(v)) return Error::msg("expected a CPU list such as 0-1,3, got \"" + v + "\"");
         r.cpuset = v;
         return ok();
       },
       [](const Record& r) { return r.cpuset; }, true},
      {"PIDS", [](Record& r, const std::string& v) { return set_opt(r.pids, v, 1, 4194304); },
       [](const Record& r) { return opt(r.pids); }, true},
      {"AUTOSTART", [](Record& r, const std::string& v) -> Status { r.autostart = BERTH_TRY(parse_bool(v)); return ok(); },
       [](const Record& r) { return std::string(r.autostart ? "yes" : "no"); }, true},
      {"BOOT_ORDER",
       [](Record& r, const std::string& v) -> Status { r.boot_order = static_cast<uint32_t>(BERTH_TRY(parse_uint(v, 0, 1000000))); return ok(); },
       [](const Record& r) { return std::to_string(r.boot_order); }, true},
      {"BOOT_DELAY",
       [](Record& r, const std::string& v) -> Status { r.boot_delay = static_cast<uint32_t>(BERTH_TRY(parse_uint(v, 0, 3600))); return ok(); },
       [](const Record& r) { return std::to_string(r.boot_delay); }, true},
      {"RESTART",
       [](Record& r, const std::string& v) -> Status {
         if (v == "no") r.restart = RestartPolicy::no;
         else if (v == "on-failure") r.restart = RestartPolicy::on_failure;
         else if (v == "always") r.restart = RestartPolicy::always;
         else return Error::msg("expected no, on-failure or always, got \"" + v + "\"");
         return ok();
       },
       [](const Record& r) { return std::string(restart_name(r.restart)); }, true},
      {"STOP_TIMEOUT",
       [](Record& r, const std::string& v) -> Status {
         r.stop_timeout = static_cast<int>(BERTH_TRY(parse_uint(v, 0, 3600)));
         return ok();
       },
       [](const Record& r) { return std::to_string(r.stop_timeout); }, true},
      {"PRIVILEGED", [](Record& r, const std::string& v) -> Status { r.privileged = BERTH_TRY(parse_bool(v)); return ok(); },
       [](const Record& r) { return std::string(r.privileged ? "yes" : "no"); }, false},
      {"IDMAP_BASE",
       [](Record& r, const std::string& v) -> Status {
         if (v.empty()) return r.idmap_base.reset(), ok();
         uint64_t b = BERTH_TRY(parse_uint(v, kIdRange, UINT32_MAX - kIdRange));
         if (b % kIdRange) return Error::msg("expected a multiple of 65536, got " + v);
         r.idmap_base = static_cast<uint32_t>(b);
         return ok();
       },
       [](const Record& r) { return opt(r.idmap_base); }, false},
      {"NET", [](Record& r, const std::string& v) { return set_list(r.nets, v, valid_net_entry, "NETWORK or NETWORK:ADDRESS"); },
       [](const Record& r) { return join(r.nets); }, false},
      {"NAMESERVER", [](Record& r, const std::string& v) { return set_list(r.nameservers, v, valid_address, "an IP address"); },
       [](const Record& r) { return join(r.nameservers); }, false},
      {"SEARCHDOMAIN", [](Record& r, const std::string& v) { return set_list(r.searchdomains, v, valid_hostname, "a domain name"); },
       [](const Record& r) { return join(r.searchdomains); }, false},
      {"RATE",
       [](Record& r, const std::string& v) -> Status {
         if (v.empty()) return r.rate.reset(), ok();
         uint64_t b = BERTH_TRY(parse_size(v));
         if (b < 1024) return Error::msg("expected at least 1K (bytes per second), got " + v);
         r.rate = b;
         return ok();
       },
       [](const Record& r) { return opt(r.rate); }, false},
      {"PORTS",
       [](Record& r, const std::string& v) {
         return set_list(r.ports, v, [](const std::string& s) {
           return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == ':'; });
         }, "[tcp|udp:]NODEPORT:PORT");
       },
       [](const Record& r) { return join(r.ports); }, false},
      {"CLUSTER",
       [](Record& r, const std::string& v) -> Status {
         if (!v.empty() && (v.size() > 200 || !std::all_of(v.begin(), v.end(), [](char c) {
               return std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '.' ||
                      c == '_' || c == '-';
             })))
           return Error::msg("expected a cluster container id such as web.app.0, got \"" + v + "\"");
         r.cluster = v;
         return ok();
       },
       [](const Record& r) { return r.cluster; }, false},
      {"PROJECT",
       [](Record& r, const std::string& v) -> Status {
         BERTH_TRY(validate_project(v, ""));
         r.project = v;
         return ok();
       },
       [](const Record& r) { return r.project; }, false},
  };
  return table;
}

const Field* find_field(const std::string& key) {
  for (const auto& f : fields())
    if (key == f.key) return &f;
  return nullptr;
}

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

const char* init_name(InitKind k) {
  switch (k) {
    case InitKind::systemd: return "systemd";
    case InitKind::app: return "app";
    default: return "busybox";
  }
}

const char* restart_name(RestartPolicy p) {
  switch (p) {
    case RestartPolicy::on_failure: return "on-failure";
    case RestartPolicy::always: return "always";
    default: return "no";
  }
}

Status validate_name(const std::string& name) {
  auto ok_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-'; };
  if (name.empty() || name.size() > 64 || !std::isalnum(static_cast<unsigned char>(name[0])) ||
      !std::all_of(name.begin(), name.end(), ok_char))
    return Error::msg("expected 1-64 characters of [A-Za-z0-9-] starting with a letter or digit, got \"" + name + "\"");
  return ok();
}

Result<uint64_t> parse_size(const std::string& s) { return berth::parse_size(s); }

Status set_field(Record& r, const std::string& key, const std::string& value) {
  const Field* f = find_field(key);
  if (!f) return Error::msg(key + ": unknown field");
  auto st = f->set(r, value);
  if (!st) return std::move(st).error().wrap(key);
  return ok();
}

bool needs_restart(const std::string& key) {
  const Field* f = find_field(upper(key));
  return !f || !f->live;
}

std::string format_record(const Record& r) {
  std::string out = "# berth container record (written by berthd; KEY=\"value\" lines)\n";
  for (const auto& f : fields()) {
    std::string v = f.get(r);
    if (v.empty()) continue;
    out += f.key;
    out += "=\"" + v + "\"\n";  // values never hold quotes: every setter refuses them
  }
  return out;
}

Result<Record> parse_record(std::string_view text) {
  Record r;
  size_t line_no = 0;
  bool have_name = false, have_root = false;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string line(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::string where = "line " + std::to_string(line_no);
    size_t eq = line.find('=');
    if (eq == std::string::npos) return Error::msg(where + ": expected KEY=\"value\"");
    std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
    if (value.find('"') != std::string::npos) return Error::msg(where + ": " + key + ": quote inside the value");
    BERTH_TRY_CTX(set_field(r, key, value), where);
    have_name |= key == "NAME";
    have_root |= key == "ROOTFS" || key == "TEMPLATE";
  }
  if (!have_name) return Error::msg("NAME: missing");
  if (!have_root) return Error::msg("ROOTFS or TEMPLATE: missing");
  return r;
}

Result<FieldChange> json_field(const std::string& k, const json::Value& val, const std::string& where) {
  std::string key = upper(k);
  std::string path = where.empty() ? k : where + "." + k;
  if (!find_field(key) || k != lower(key)) return Error::msg(path + ": unknown field");
  std::string text;
  if (val.is_string()) text = val.as_string();
  else if (val.is_uint()) text = std::to_string(val.as_uint());
  else if (val.is_bool()) text = val.as_bool() ? "yes" : "no";
  else if (val.is_null()) text = "";
  else if (val.is_int()) return Error::msg(path + ": expected a non-negative number, got " + json::dump(val));
  else return Error::msg(path + ": expected a string or number, got " + json::Value::type_name(val.type()));
  if (text.find('"') != std::string::npos || text.find('\n') != std::string::npos)
    return Error::msg(path + ": quotes and newlines are not allowed");
  return FieldChange{k, std::move(text)};
}

Status apply_field(Record& r, const FieldChange& f, const std::string& where) {
  const Field* field = find_field(upper(f.key));
  std::string path = where.empty() ? f.key : where + "." + f.key;
  if (!field || f.key != lower(field->key)) return Error::msg(path + ": unknown field");
  auto st = field->set(r, f.value);
  if (!st) return std::move(st).error().wrap(path);
  return ok();
}

Status apply_json(Record& r, const json::Value& v, const std::string& where) {
  if (!v.is_object()) return Error::msg(where + ": expected an object");
  for (const auto& [k, val] : v.as_object()) {
    FieldChange f = BERTH_TRY(json_field(k, val, where));
    BERTH_TRY(apply_field(r, f, where));
  }
  return ok();
}

json::Value record_json(const Record& r) {
  json::Value o = json::Value::object();
  for (const auto& f : fields()) {
    std::string v = f.get(r);
    if (v.empty()) continue;
    o.set(lower(f.key), v);
  }
  return o;
}

}  // namespace berth::supervisor
