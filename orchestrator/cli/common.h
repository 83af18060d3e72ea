// common.h — the etcd settings and exits shared by the cluster binaries
// (their flags are read with base/flags.h).
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/flags.h"
#include "berth/cluster/etcd.h"

namespace berth::orch::cli {

using namespace berth::cluster;

using flags::Args;
using flags::Flag;

/// How the cluster binaries parse: an empty value is refused by name.
inline const flags::Options kOptions{flags::Dialect::gnu, false, "", true};

/// The flags of etcd_config() and prefix().
std::vector<Flag> etcd_options();

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
