// host_port.h — "HOST:PORT" addresses of berthd's TCP listener
// (--listen-tcp) and of the CLI's remote berthd (--remote). Pure: no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth {

struct HostPort {
  std::string host;  // without brackets: "127.0.0.1", "::1", "node1.example"
  uint16_t port = 0;
  bool ipv6 = false;  // host is an IPv6 literal (written "[...]")
};

/// Parses "HOST:PORT", "[IPV6]:PORT": a port from 1 to 65535, an IPv6
/// literal only in brackets (and checked as one), any other host as given
/// (a name or an IPv4 address).
Result<HostPort> parse_host_port(std::string_view text);

/// parse_host_port() for an address to listen on: the host must be an IPv4
/// or IPv6 literal ("0.0.0.0", "[::]"), not a name.
Result<HostPort> parse_listen_address(std::string_view text);

/// Whether `host` is an IPv4 literal in dotted-quad form.
bool is_ipv4_literal(const std::string& host);
/// Whether the address is an IP literal (a certificate names it as an IP SAN).
bool is_ip_literal(const HostPort& a);

/// The address as it is written: "[::1]:8443", "127.0.0.1:8443".
std::string to_string(const HostPort& a);

}  // namespace berth
