// addr.cpp — IP/CIDR/MAC parsing and arithmetic.
#include "berth/net/addr.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <cstdio>

namespace berth::net {

bool IpAddr::is_v4() const { return family == AF_INET; }
bool IpAddr::is_v6() const { return family == AF_INET6; }

std::string IpAddr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family == 0) return "";
  inet_ntop(family, bytes.data(), buf, sizeof buf);
  return buf;
}

Result<IpAddr> parse_ip(std::string_view text) {
  std::string s(text);
  IpAddr a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
      a.family = AF_INET;
      return a;
    }
  } else if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) == 1) {
    a.family = AF_INET6;
    return a;
  }
  return Error::msg("\"" + s + "\" is not an IPv4 or IPv6 address");
}

std::string Cidr::str() const { return addr.str() + "/" + std::to_string(prefix); }

int Cidr::host_bits() const { return (addr.is_v4() ? 32 : 128) - prefix; }

Cidr Cidr::network() const {
  Cidr c = *this;
  for (size_t i = 0; i < c.addr.size(); ++i) {
    int bits = prefix - static_cast<int>(i) * 8;
    uint8_t mask = bits >= 8 ? 0xff : bits <= 0 ? 0 : static_cast<uint8_t>(0xff << (8 - bits));
    c.addr.bytes[i] &= mask;
  }
  return c;
}

bool Cidr::contains(const IpAddr& a) const {
  if (a.family != addr.family) return false;
  Cidr probe{a, prefix};
  return probe.network().addr == network().addr;
}

bool Cidr::overlaps(const Cidr& o) const {
  if (o.addr.family != addr.family) return false;
  const Cidr& wider = prefix <= o.prefix ? *this : o;
  const Cidr& narrower = prefix <= o.prefix ? o : *this;
  return wider.contains(narrower.addr);
}

std::optional<IpAddr> Cidr::at(uint64_t offset) const {
  int hb = host_bits();
  if (hb < 64 && offset >= (uint64_t{1} << hb)) return std::nullopt;
  IpAddr a = network().addr;
  unsigned carry = 0;
  for (int i = static_cast<int>(a.size()) - 1; i >= 0; --i) {
    unsigned v = a.bytes[i] + (offset & 0xff) + carry;
    a.bytes[i] = static_cast<uint8_t>(v);
    carry = v >> 8;
    offset >>= 8;
    if (offset == 0 && carry == 0) break;
  }
  return a;
}

std::optional<uint64_t> Cidr::offset_of(const IpAddr& a) const {
  if (!contains(a)) return std::nullopt;
  int hb = host_bits();
  size_t n = a.size();
  uint64_t off = 0;
  for (size_t i = 0; i < n; ++i) {
    int byte_hb = hb - static_cast<int>((n - 1 - i) * 8);  // host bits in this byte
    if (byte_hb <= 0) continue;
    if (static_cast<int>(n - 1 - i) >= 8) {
      if (a.bytes[i] != network().addr.bytes[i]) return std::nullopt;  // beyond 64 bits
      continue;
    }
    uint8_t mask = byte_hb >= 8 ? 0xff : static_cast<uint8_t>((1u << byte_hb) - 1);
    off = (off << 8) | (a.bytes[i] & mask);
  }
  return off;
}

Result<Cidr> parse_cidr(std::string_view text, bool need_prefix) {
  auto slash = text.find('/');
  if (slash == std::string_view::npos && need_prefix)
    return Error::msg("\"" + std::string(text) + "\" is not a CIDR prefix (expected ADDRESS/LENGTH)");
  auto addr = parse_ip(text.substr(0, slash));
  if (!addr) return Error::msg("\"" + std::string(text) + "\" is not a CIDR prefix: " + addr.error().message());
  Cidr c{*addr, addr->is_v4() ? 32 : 128};
  if (slash != std::string_view::npos) {
    std::string_view len = text.substr(slash + 1);
    int v = 0;
    bool good = !len.empty() && len.size() <= 3;
    for (char ch : len) {
      if (ch < '0' || ch > '9') good = false;
      v = v * 10 + (ch - '0');
    }
    if (!good || v > (addr->is_v4() ? 32 : 128))
      return Error::msg("\"" + std::string(text) + "\" is not a CIDR prefix: bad prefix length");
    c.prefix = v;
  }
  return c;
}

std::string Mac::str() const {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2], bytes[3],
                bytes[4], bytes[5]);
  return buf;
}

Result<Mac> parse_mac(std::string_view text) {
  auto bad = [&](const char* why) {
    return Error::msg("\"" + std::string(text) + "\" is not a MAC address: " + why);
  };
  if (text.size() != 17) return bad("expected six hex pairs like 02:00:00:00:00:01");
  Mac m;
  for (size_t i = 0; i < 6; ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    int hi = hex(text[i * 3]), lo = hex(text[i * 3 + 1]);
    if (hi < 0 || lo < 0) return bad("expected six hex pairs like 02:00:00:00:00:01");
    if (i < 5 && text[i * 3 + 2] != ':' && text[i * 3 + 2] != '-') return bad("expected ':' between pairs");
    m.bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  if (m.bytes[0] & 1) return bad("multicast address");
  if (m == Mac{}) return bad("all zeros");
  return m;
}

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

Mac derived_mac(std::string_view seed) {
  uint64_t h = fnv1a(seed);
  Mac m;
  for (int i = 0; i < 6; ++i) m.bytes[i] = static_cast<uint8_t>(h >> (i * 8));
  m.bytes[0] = static_cast<uint8_t>((m.bytes[0] & 0xfe) | 0x02);  // unicast, locally administered
  return m;
}

Status check_ifname(std::string_view name) {
  if (name.empty()) return Error::msg("interface name is empty");
  if (name.size() >= IFNAMSIZ)
    return Error::msg("interface name \"" + std::string(name) + "\" is " + std::to_string(name.size()) +
                      " bytes, the kernel allows at most " + std::to_string(IFNAMSIZ - 1));
  if (name == "." || name == "..") return Error::msg("interface name \"" + std::string(name) + "\" is reserved");
  for (char c : name)
    if (c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || static_cast<unsigned char>(c) < 0x21)
      return Error::msg("interface name \"" + std::string(name) + "\" contains a forbidden character");
  return ok();
}

std::string host_ifname(std::string_view prefix, std::string_view network, std::string_view container) {
  std::string key(network);
  key += '\0';
  key += container;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(fnv1a(key)));
  return std::string(prefix) + std::string(buf, 12);
}

}  // namespace berth::net
