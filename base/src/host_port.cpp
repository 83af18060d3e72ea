// host_port.cpp — "HOST:PORT" parsing for berthd's TCP listener and
// clients' --remote; refusals are EINVAL.
#include "berth/base/host_port.h"

#include <arpa/inet.h>

#include <cerrno>

namespace berth {

namespace {

Result<uint16_t> parse_port(std::string_view text, std::string_view whole) {
  if (text.empty() || text.size() > 5)
    return Error(EINVAL, "address " + std::string(whole) + ": expected a port from 1 to 65535");
  unsigned long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return Error(EINVAL, "address " + std::string(whole) + ": port \"" + std::string(text) + "\" is not a number");
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v == 0 || v > 65535)
    return Error(EINVAL, "address " + std::string(whole) + ": port " + std::string(text) + " is out of range");
  return static_cast<uint16_t>(v);
}

}  // namespace

bool is_ipv4_literal(const std::string& host) {
  in_addr a{};
  return ::inet_pton(AF_INET, host.c_str(), &a) == 1;
}

Result<HostPort> parse_host_port(std::string_view text) {
  std::string whole(text);
  HostPort out;
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return Error(EINVAL, "address " + whole + ": no closing \"]\"");
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return Error(EINVAL, "address " + whole + ": expected [IPV6]:PORT");
    out.host = std::string(text.substr(1, close - 1));
    in6_addr a{};
    if (::inet_pton(AF_INET6, out.host.c_str(), &a) != 1)
      return Error(EINVAL, "address " + whole + ": \"" + out.host + "\" is not an IPv6 address");
    out.ipv6 = true;
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return Error(EINVAL, "address " + whole + ": expected HOST:PORT");
    if (text.find(':') != colon)
      return Error(EINVAL, "address " + whole + ": an IPv6 address goes in brackets, [ADDR]:PORT");
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) return Error(EINVAL, "address " + whole + ": no host");
  out.port = BERTH_TRY(parse_port(port, text));
  return out;
}

Result<HostPort> parse_listen_address(std::string_view text) {
  HostPort a = BERTH_TRY(parse_host_port(text));
  if (!a.ipv6 && !is_ipv4_literal(a.host))
    return Error(EINVAL, "address " + std::string(text) + ": listen on an IPv4 or [IPv6] address, not a name");
  return a;
}

bool is_ip_literal(const HostPort& a) { return a.ipv6 || is_ipv4_literal(a.host); }

std::string to_string(const HostPort& a) {
  return (a.ipv6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

}  // namespace berth
