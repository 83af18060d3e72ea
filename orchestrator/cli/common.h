// common.h — option parsing and etcd settings shared by the cluster
// binaries.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/orchestrator/etcd.h"

namespace berth::orch::cli {

struct Args {
  std::vector<std::string> pos;
  std::map<std::string, std::string> opt;  // "--name value" or "--name=value"; flags map to "1"

  std::string get(const std::string& name, const std::string& def = {}) const;
  /// An integer option; a value that is not one is recorded for check().
  long num(const std::string& name, long def) const;
  /// A number option, likewise.
  double real(const std::string& name, double def) const;
  bool flag(const std::string& name) const {
    used.insert(name);
    return opt.count(name) > 0;
  }
  /// After every option was read: an error naming the first malformed
  /// value, or an option given that nothing read (unknown).
  Status check() const;

private:
  mutable std::set<std::string> used;
  mutable std::string bad;  // the first malformed value, described
};

/// Parses argv[from..]; `flags` lists the options that take no value.
Result<Args> parse_args(int argc, char** argv, int from, const std::vector<std::string>& flags);

/// --etcd (or $BERTH_ETCD; default 127.0.0.1:2379), --etcd-timeout-ms, and
/// TLS and the user: --etcd-cacert, --etcd-cert, --etcd-key, --etcd-user
/// (files checked now; errors name the flag).
Result<EtcdConfig> etcd_config(const Args& a);
/// --prefix (or $BERTH_PREFIX; default /berth/).
std::string prefix(const Args& a);

/// Prints "prog: message" and returns 1.
int fail(const char* prog, const Error& e);

}  // namespace berth::orch::cli
