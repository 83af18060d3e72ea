// common.cpp — option parsing shared by the cluster binaries.
#include "common.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace berth::orch::cli {

std::string Args::get(const std::string& name, const std::string& def) const {
  used.insert(name);
  auto it = opt.find(name);
  return it == opt.end() ? def : it->second;
}

long Args::num(const std::string& name, long def) const {
  used.insert(name);
  auto it = opt.find(name);
  if (it == opt.end()) return def;
  errno = 0;
  char* end = nullptr;
  long v = std::strtol(it->second.c_str(), &end, 10);
  if (it->second.empty() || *end || errno) {
    if (bad.empty()) bad = "--" + name + ": expected an integer, got \"" + it->second + "\"";
    return def;
  }
  return v;
}

double Args::real(const std::string& name, double def) const {
  used.insert(name);
  auto it = opt.find(name);
  if (it == opt.end()) return def;
  char* end = nullptr;
  double v = std::strtod(it->second.c_str(), &end);
  if (it->second.empty() || *end || !std::isfinite(v)) {
    if (bad.empty()) bad = "--" + name + ": expected a number, got \"" + it->second + "\"";
    return def;
  }
  return v;
}

Status Args::check() const {
  if (!bad.empty()) return Error::msg(bad);
  for (const auto& [name, value] : opt)
    if (!used.count(name)) return Error::msg("unknown option --" + name);
  return ok();
}

Result<Args> parse_args(int argc, char** argv, int from, const std::vector<std::string>& flags) {
  Args a;
  for (int i = from; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0 || s == "--") {
      a.pos.push_back(s);
      continue;
    }
    std::string name = s.substr(2);
    size_t eq = name.find('=');
    if (eq != std::string::npos) {
      a.opt[name.substr(0, eq)] = name.substr(eq + 1);
      continue;
    }
    bool is_flag = false;
    for (const auto& f : flags) is_flag |= f == name;
    if (is_flag) {
      a.opt[name] = "1";
      continue;
    }
    if (i + 1 >= argc) return Error::msg("option --" + name + ": a value is required");
    a.opt[name] = argv[++i];
  }
  return a;
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

}  // namespace berth::orch::cli
