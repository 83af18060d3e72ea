// host_port.h — "HOST:PORT" of a remote berthd (--remote). Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::client {

struct HostPort {
  std::string host;  // without brackets: "127.0.0.1", "::1", "node1.example"
  uint16_t port = 0;
  bool ipv6 = false;  // host is an IPv6 literal (written "[...]")
};

/// Parses "HOST:PORT" or "[IPV6]:PORT": a port from 1 to 65535, an IPv6
/// literal only in brackets (checked as one), any other host as given.
/// Errors (EINVAL) name the address and what is wrong with it.
Result<HostPort> parse_host_port(std::string_view text);

/// Whether `host` is an IP literal (a certificate names it as an IP SAN).
bool is_ip_literal(const HostPort& a);

/// The address as it is written: "[::1]:8443", "127.0.0.1:8443".
std::string to_string(const HostPort& a);

}  // namespace berth::client
