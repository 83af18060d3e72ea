// addr.h — IP addresses, CIDR prefixes, MAC addresses and interface names:
// parsing, formatting and arithmetic (pure, no syscalls).
#pragma once

#include <sys/socket.h>

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::net {

/// An IPv4 or IPv6 address; IPv4 uses the first 4 bytes.
struct IpAddr {
  int family = 0;  // AF_INET or AF_INET6; 0 = unset
  std::array<uint8_t, 16> bytes{};

  bool is_v4() const;
  bool is_v6() const;
  size_t size() const { return is_v4() ? 4 : 16; }
  std::string str() const;
  // clang-tidy 14 takes the defaulted <=> for a 0 compared with a pointer.
  auto operator<=>(const IpAddr&) const = default;  // NOLINT(modernize-use-nullptr)
};

/// "198.18.0.1" or "fd00::1"; anything else is an error naming `text`.
Result<IpAddr> parse_ip(std::string_view text);

/// An address with a prefix length ("198.18.0.0/24", "fd00:1::5/64").
struct Cidr {
  IpAddr addr;
  int prefix = 0;

  std::string str() const;
  /// The address with its host bits cleared.
  Cidr network() const;
  bool contains(const IpAddr& a) const;
  bool overlaps(const Cidr& o) const;
  /// Number of host bits (32 - prefix or 128 - prefix).
  int host_bits() const;
  /// The address `offset` past the network address, or nothing if that is
  /// outside the prefix.
  std::optional<IpAddr> at(uint64_t offset) const;
  /// The offset of `a` from the network address (a must be inside; offsets
  /// past 2^64 are not representable and give nothing).
  std::optional<uint64_t> offset_of(const IpAddr& a) const;
  auto operator<=>(const Cidr&) const = default;
};

/// "ADDR/LEN"; without "/LEN" the full length is assumed when `need_prefix`
/// is false. Host bits may be set (the caller decides whether that is fine).
Result<Cidr> parse_cidr(std::string_view text, bool need_prefix = true);

/// A MAC address.
struct Mac {
  std::array<uint8_t, 6> bytes{};
  std::string str() const;
  bool operator==(const Mac&) const = default;
};

/// "02:42:ac:11:00:02" (colon- or dash-separated); multicast addresses are
/// refused since they cannot name an interface.
Result<Mac> parse_mac(std::string_view text);

/// A locally administered unicast MAC derived from `seed` (stable per seed).
Mac derived_mac(std::string_view seed);

/// Checks a Linux interface name: 1..15 bytes (IFNAMSIZ-1), no '/', ':',
/// whitespace, and not "." or "..".
Status check_ifname(std::string_view name);

/// A stable 64-bit FNV-1a hash, used to derive interface names.
uint64_t fnv1a(std::string_view s);

/// "bv" + 12 hex digits of hash(network, container): the host-side veth name.
std::string host_ifname(std::string_view prefix, std::string_view network, std::string_view container);

}  // namespace berth::net
