// config.h — berth-cni's side of the CNI 1.0 contract: the network
// configuration read from stdin (with prevResult and runtimeConfig), the
// environment, and the result and error objects written to stdout. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/net/ipam.h"
#include "berth/net/network.h"

namespace berth::cni {

/// CNI error codes (spec "Error"); 100+ are the plugin's own.
enum Code {
  kIncompatibleVersion = 1,
  kUnsupportedField = 2,
  kUnknownContainer = 3,
  kInvalidEnv = 4,
  kIoFailure = 5,
  kDecodeFailure = 6,
  kInvalidConfig = 7,
  kTryAgain = 11,
  kPluginFailure = 100,
  kCheckFailed = 101,
};

/// The versions this plugin reads and writes.
const std::vector<std::string>& supported_versions();

struct Config {
  std::string cni_version;
  net::Network network;        // name, mode, subnets, bridge, dns from the config
  std::string state_dir;       // "stateDir", default /run/berth/cni
  std::optional<net::Mac> mac; // runtimeConfig.mac or args.cni.mac
  std::vector<net::IpAddr> ips;               // runtimeConfig.ips (static)
  std::vector<net::PortForward> ports;        // runtimeConfig.portMappings
  uint64_t rate_in = 0, rate_out = 0;         // runtimeConfig.bandwidth, bytes/s
  std::optional<json::Value> prev_result;
};

/// A config error with the CNI code to report.
struct ConfigError {
  int code;
  std::string msg;
};

/// Parses stdin. Field errors read "FIELD: what" and come with code 7 (or 1
/// for an unsupported cniVersion, 6 for malformed JSON).
std::variant<Config, ConfigError> parse_config(std::string_view text);

/// The result object for an attachment (interfaces, ips, routes, dns) in the
/// config's cniVersion.
json::Value make_result(const Config& c, const net::Network& n, const net::Attachment& a, const std::string& sandbox);

/// {"cniVersion","code","msg"[,"details"]}.
std::string error_json(const std::string& version, int code, const std::string& msg, const std::string& details = "");

}  // namespace berth::cni
