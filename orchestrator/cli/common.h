// common.h — the option parser and etcd settings shared by the cluster
// binaries.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/cluster/etcd.h"

namespace berth::orch::cli {

using namespace berth::cluster;

/// One option a program takes and what its value must be.
struct Option {
  enum class Kind { flag, text, integer, number };
  std::string name;  // without the dashes
  Kind kind = Kind::text;
  double min = 0, max = 0;  // integer, number: the range, inclusive (min == max: any)
  bool above_min = false;   // number: strictly more than min

  static Option flag(std::string n) { return {std::move(n), Kind::flag}; }
  static Option text(std::string n) { return {std::move(n), Kind::text}; }
  static Option integer(std::string n, double min, double max) { return {std::move(n), Kind::integer, min, max}; }
  static Option number(std::string n, double min, double max, bool above_min = false) {
    return {std::move(n), Kind::number, min, max, above_min};
  }
};

struct Args {
  std::vector<std::string> pos;
  std::map<std::string, std::string> opt;  // checked against the options given to parse_args

  std::string get(const std::string& name, const std::string& def = {}) const;
  long num(const std::string& name, long def) const;
  double real(const std::string& name, double def) const;
  bool flag(const std::string& name) const { return opt.count(name) > 0; }
  /// Refuses an option given that `verb` does not take (it takes `takes`).
  Status only(const std::vector<std::string>& takes, const std::string& verb) const;
};

/// Parses argv[from..]: "--name value", "--name=value", "--flag"; other
/// words are positional, and so is everything after "--". An option not in
/// `known`, a flag with a value, a value missing, or one not of its kind or
/// range is refused naming the option ("--memory-mb: expected an integer,
/// got \"abc\"").
Result<Args> parse_args(int argc, char** argv, int from, const std::vector<Option>& known);

/// The options of etcd_config() and prefix(), for parse_args.
std::vector<Option> etcd_options();

/// --etcd (or $BERTH_ETCD; default 127.0.0.1:2379), --etcd-timeout-ms, and
/// TLS and the user: --etcd-cacert, --etcd-cert, --etcd-key, --etcd-user
/// (files checked now; errors name the flag).
Result<EtcdConfig> etcd_config(const Args& a);
/// --prefix (or $BERTH_PREFIX; default /berth/).
std::string prefix(const Args& a);

/// Prints "prog: message" and returns 1.
int fail(const char* prog, const Error& e);
/// Prints "prog: message" and the usage on stderr and returns 2.
int refuse(const char* prog, const Error& e, const char* usage);

}  // namespace berth::orch::cli
