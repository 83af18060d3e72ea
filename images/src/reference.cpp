// reference.cpp — parsing and normalising image references.
#include "berth/images/reference.h"

#include <cctype>

namespace berth::images {

namespace {

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool is_word(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// One path component: [a-z0-9]+ joined by ".", "_", "__" or "-"+.
Status check_component(std::string_view c) {
  if (c.empty()) return Error::msg("empty path component");
  for (char ch : c)
    if (std::isupper(static_cast<unsigned char>(ch))) return Error::msg("repository must be lowercase");
  if (!is_lower_alnum(c.front()) || !is_lower_alnum(c.back()))
    return Error::msg("component \"" + std::string(c) + "\" must start and end with [a-z0-9]");
  for (size_t i = 0; i < c.size();) {
    if (is_lower_alnum(c[i])) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < c.size() && !is_lower_alnum(c[j])) ++j;
    std::string_view sep = c.substr(i, j - i);
    bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (sep != "." && sep != "_" && sep != "__" && !dashes)
      return Error::msg("component \"" + std::string(c) + "\": separator \"" + std::string(sep) +
                        "\" (expected '.', '_', '__' or dashes)");
    i = j;
  }
  return {};
}

Status check_port(std::string_view p) {
  if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string_view::npos ||
      std::stoul(std::string(p)) > 65535 || std::stoul(std::string(p)) == 0)
    return Error::msg("registry port \"" + std::string(p) + "\" (expected 1-65535)");
  return {};
}

// host[:port], [ipv6][:port].
Status check_registry(std::string_view r) {
  std::string_view host = r, port;
  if (!r.empty() && r.front() == '[') {
    size_t close = r.find(']');
    if (close == std::string_view::npos) return Error::msg("registry \"" + std::string(r) + "\": unclosed '['");
    host = r.substr(1, close - 1);
    std::string_view rest = r.substr(close + 1);
    if (!rest.empty() && rest.front() != ':')
      return Error::msg("registry \"" + std::string(r) + "\": expected ':' after ']'");
    if (!rest.empty()) port = rest.substr(1);
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      return Error::msg("registry \"" + std::string(r) + "\": bad IPv6 address");
    if (!rest.empty()) BERTH_TRY(check_port(port));
    return {};
  }
  if (size_t colon = r.find(':'); colon != std::string_view::npos) {
    host = r.substr(0, colon);
    BERTH_TRY(check_port(r.substr(colon + 1)));
  }
  size_t start = 0;
  while (start <= host.size()) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos ? host.npos : dot - start);
    bool ok = !label.empty() && label.front() != '-' && label.back() != '-';
    for (char c : label) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '-');
    if (!ok) return Error::msg("registry host \"" + std::string(host) + "\" (expected DNS labels or an IP address)");
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return {};
}

Status check_tag(std::string_view t) {
  bool ok = !t.empty() && t.size() <= 128 && is_word(t.front());
  for (char c : t) ok = ok && (is_word(c) || c == '.' || c == '-');
  if (!ok) return Error::msg("tag \"" + std::string(t) + "\" (expected [A-Za-z0-9_][A-Za-z0-9_.-]{0,127})");
  return {};
}

bool looks_like_registry(std::string_view first) {
  return first.find('.') != std::string_view::npos || first.find(':') != std::string_view::npos ||
         first == "localhost" || (!first.empty() && first.front() == '[');
}

Result<Reference> parse(std::string_view text) {
  if (text.empty()) return Error::msg("empty");
  if (text.size() > 4096) return Error::msg("longer than 4096 characters");
  for (unsigned char c : text)
    if (c <= 0x20 || c >= 0x7f) return Error::msg("contains a space, control or non-ASCII character");
  Reference ref;
  std::string_view rest = text;
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) {
    ref.digest = BERTH_TRY(Digest::parse(rest.substr(at + 1), "digest"));
    rest = rest.substr(0, at);
  }
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    ref.tag = std::string(rest.substr(colon + 1));
    BERTH_TRY(check_tag(ref.tag));
    rest = rest.substr(0, colon);
  }
  std::string_view path = rest;
  if (size_t first = rest.find('/'); first != std::string_view::npos && looks_like_registry(rest.substr(0, first))) {
    ref.registry = std::string(rest.substr(0, first));
    BERTH_TRY(check_registry(ref.registry));
    path = rest.substr(first + 1);
  } else {
    ref.registry = std::string(default_registry);
  }
  if (ref.registry == "index.docker.io") ref.registry = std::string(default_registry);
  if (path.empty()) return Error::msg("no repository name");
  for (size_t s = 0;;) {
    size_t e = path.find('/', s);
    BERTH_TRY(check_component(path.substr(s, e == std::string_view::npos ? path.npos : e - s)));
    if (e == std::string_view::npos) break;
    s = e + 1;
  }
  ref.repository = std::string(path);
  if (ref.registry == default_registry && ref.repository.find('/') == std::string::npos)
    ref.repository = "library/" + ref.repository;
  if (ref.name().size() > 255) return Error::msg("name longer than 255 characters");
  if (ref.tag.empty() && !ref.digest) ref.tag = std::string(default_tag);
  return ref;
}

}  // namespace

std::string Reference::name() const { return registry + "/" + repository; }

std::string Reference::str() const {
  std::string s = name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->str();
  return s;
}

std::string Reference::manifest_ref() const { return digest ? digest->str() : tag; }

Result<Reference> parse_reference(std::string_view text) {
  auto r = parse(text);
  if (!r) {
    std::string shown(text.substr(0, 256));
    return std::move(r).error().wrap("image reference \"" + shown + "\"");
  }
  return r;
}

std::string registry_endpoint(std::string_view registry) {
  if (registry == "docker.io" || registry == "index.docker.io") return "registry-1.docker.io";
  return std::string(registry);
}

}  // namespace berth::images
