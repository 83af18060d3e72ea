// common.cpp — the option parser shared by the cluster binaries.
#include "common.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace berth::orch::cli {

namespace {

std::string show(double v) {
  char b[32];
  std::snprintf(b, sizeof b, v == std::floor(v) && std::fabs(v) < 1e15 ? "%.0f" : "%g", v);
  return b;
}

// The value of `o` checked against its kind and range.
Status check_value(const Option& o, const std::string& v) {
  std::string name = "--" + o.name;
  if (o.kind == Option::Kind::text) {
    if (v.empty()) return Error::msg(name + ": expected a value, got \"\"");
    return ok();
  }
  char* end = nullptr;
  errno = 0;
  double d = 0;
  if (o.kind == Option::Kind::integer) {
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || errno) return Error::msg(name + ": expected an integer, got \"" + v + "\"");
    d = static_cast<double>(n);
  } else {
    d = std::strtod(v.c_str(), &end);
    if (v.empty() || *end || errno || !std::isfinite(d)) return Error::msg(name + ": expected a number, got \"" + v + "\"");
  }
  if (o.min == o.max) return ok();
  bool low = o.above_min ? d <= o.min : d < o.min;
  if (low || d > o.max)
    return Error::msg(name + ": expected " + (o.kind == Option::Kind::integer ? "an integer" : "a number") + " from " +
                      show(o.min) + (o.above_min ? " (excluded)" : "") + " to " + show(o.max) + ", got \"" + v + "\"");
  return ok();
}

const Option* find(const std::vector<Option>& known, const std::string& name) {
  for (const auto& o : known)
    if (o.name == name) return &o;
  return nullptr;
}

}  // namespace

std::string Args::get(const std::string& name, const std::string& def) const {
  auto it = opt.find(name);
  return it == opt.end() ? def : it->second;
}

long Args::num(const std::string& name, long def) const {
  auto it = opt.find(name);
  return it == opt.end() ? def : std::strtol(it->second.c_str(), nullptr, 10);
}

double Args::real(const std::string& name, double def) const {
  auto it = opt.find(name);
  return it == opt.end() ? def : std::strtod(it->second.c_str(), nullptr);
}

Status Args::only(const std::vector<std::string>& takes, const std::string& verb) const {
  for (const auto& [name, value] : opt) {
    bool ok = false;
    for (const auto& t : takes) ok |= t == name;
    if (!ok) return Error::msg("--" + name + ": not an option of " + verb);
  }
  return berth::ok();
}

Result<Args> parse_args(int argc, char** argv, int from, const std::vector<Option>& known) {
  Args a;
  bool options = true;
  for (int i = from; i < argc; ++i) {
    std::string s = argv[i];
    if (!options || s.rfind("--", 0) != 0) {
      a.pos.push_back(s);
      continue;
    }
    if (s == "--") {
      options = false;
      continue;
    }
    std::string name = s.substr(2);
    size_t eq = name.find('=');
    std::string value;
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    const Option* o = find(known, name);
    if (!o) return Error::msg("unknown option --" + name);
    if (o->kind == Option::Kind::flag) {
      if (inline_value) return Error::msg("--" + name + ": takes no value");
      a.opt[name] = "1";
      continue;
    }
    if (!inline_value) {
      if (i + 1 >= argc) return Error::msg("--" + name + ": a value is required");
      value = argv[++i];
    }
    BERTH_TRY(check_value(*o, value));
    a.opt[name] = value;
  }
  return a;
}

std::vector<Option> etcd_options() {
  return {Option::text("etcd"),          Option::text("etcd-cacert"), Option::text("etcd-cert"),
          Option::text("etcd-key"),      Option::text("etcd-user"),   Option::integer("etcd-timeout-ms", 1, 3600000),
          Option::text("prefix")};
}

Result<EtcdConfig> etcd_config(const Args& a) {
  const char* env = std::getenv("BERTH_ETCD");
  EtcdConfig c;
  EtcdSecurityOptions so{a.get("etcd-cacert"), a.get("etcd-cert"), a.get("etcd-key"), a.get("etcd-user")};
  c.credentials = BERTH_TRY(etcd_credentials(so));
  c.endpoints = BERTH_TRY(etcd_endpoints(a.get("etcd", env ? env : "127.0.0.1:2379"), c.credentials.get(), "--etcd"));
  c.timeout_ms = a.num("etcd-timeout-ms", 5000);
  return c;
}

std::string prefix(const Args& a) {
  const char* env = std::getenv("BERTH_PREFIX");
  return a.get("prefix", env ? env : "/berth/");
}

int fail(const char* prog, const Error& e) {
  std::fprintf(stderr, "%s: %s\n", prog, e.what().c_str());
  return 1;
}

int refuse(const char* prog, const Error& e, const char* usage) {
  std::fprintf(stderr, "%s: %s\n%s", prog, e.what().c_str(), usage);
  return 2;
}

}  // namespace berth::orch::cli
