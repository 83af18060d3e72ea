// host_port.cpp — "HOST:PORT" of --remote.
#include "berth/client/host_port.h"

#include <arpa/inet.h>

namespace berth::client {

namespace {

Error bad(std::string_view whole, const std::string& why) {
  return Error(EINVAL, "address " + std::string(whole) + ": " + why);
}

}  // namespace

Result<HostPort> parse_host_port(std::string_view text) {
  HostPort out;
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return bad(text, "no closing \"]\"");
    if (close + 1 >= text.size() || text[close + 1] != ':') return bad(text, "expected [IPV6]:PORT");
    out.host = std::string(text.substr(1, close - 1));
    in6_addr a{};
    if (::inet_pton(AF_INET6, out.host.c_str(), &a) != 1)
      return bad(text, "\"" + out.host + "\" is not an IPv6 address");
    out.ipv6 = true;
    port = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad(text, "expected HOST:PORT");
    if (text.find(':') != colon) return bad(text, "an IPv6 address goes in brackets, [ADDR]:PORT");
    out.host = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
  }
  if (out.host.empty()) return bad(text, "no host");
  unsigned long v = 0;
  for (char c : port) {
    if (c < '0' || c > '9') return bad(text, "port \"" + std::string(port) + "\" is not a number");
    v = v * 10 + static_cast<unsigned long>(c - '0');
    if (v > 65535) break;
  }
  if (port.empty() || v == 0 || v > 65535) return bad(text, "expected a port from 1 to 65535");
  out.port = static_cast<uint16_t>(v);
  return out;
}

bool is_ip_literal(const HostPort& a) {
  in_addr v4{};
  return a.ipv6 || ::inet_pton(AF_INET, a.host.c_str(), &v4) == 1;
}

std::string to_string(const HostPort& a) {
  return (a.ipv6 ? "[" + a.host + "]" : a.host) + ":" + std::to_string(a.port);
}

}  // namespace berth::client
