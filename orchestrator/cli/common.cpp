// common.cpp — the etcd settings and exits shared by the cluster binaries.
#include "common.h"

#include <cstdio>
#include <cstdlib>

namespace berth::orch::cli {

std::vector<Flag> etcd_options() {
  return {Flag::text({"etcd"}),     Flag::text({"etcd-cacert"}), Flag::text({"etcd-cert"}),
          Flag::text({"etcd-key"}), Flag::text({"etcd-user"}),   Flag::integer({"etcd-timeout-ms"}, 1, 3600000),
          Flag::text({"prefix"})};
}

Result<EtcdConfig> etcd_config(const Args& a) {
  const char* env = std::getenv("BERTH_ETCD");
  EtcdConfig c;
  EtcdSecurityOptions so{a.get("etcd-cacert"), a.get("etcd-cert"), a.get("etcd-key"), a.get("etcd-user")};
  c.credentials = BERTH_TRY(etcd_credentials(so));
  c.endpoints = BERTH_TRY(etcd_endpoints(a.get("etcd", env ? env : "127.0.0.1:2379"), c.credentials.get(), "--etcd"));
  c.timeout_ms = a.integer("etcd-timeout-ms", 5000);
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
