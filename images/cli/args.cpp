// args.cpp — flag parsing and the option groups shared by commands.
#include "args.h"

#include <unistd.h>

#include "berth/images/manifest.h"

namespace berth::image_cli {

std::vector<Flag> registry_flags() {
  return {Flag::text({"ca"}),
          Flag::text({"creds"}),
          Flag::text({"creds-file"}),
          Flag::boolean({"plain-http"}),
          Flag::integer({"timeout"}, 1, 1e9),
          Flag::integer({"retries"}, 0, 1e6),
          Flag::integer({"parallel"}, 1, 32),
          Flag::size({"chunk-size"})};
}

Result<images::RegistryOptions> registry_options(const Args& a) {
  images::RegistryOptions o;
  o.ca_file = a.get("ca");
  o.plain_http = a.has("plain-http");
  if (a.has("creds") && a.has("creds-file")) return Error::msg(a.command() + ": --creds and --creds-file exclude each other");
  if (a.has("creds")) o.credentials = BERTH_TRY(images::parse_credentials(a.get("creds"), a.command() + ": --creds"));
  if (a.has("creds-file")) o.credentials = BERTH_TRY_CTX(images::read_credentials_file(a.get("creds-file")), a.command() + ": --creds-file");
  // parse_flags checked the kinds and ranges.
  o.timeout = std::chrono::seconds(a.integer("timeout", o.timeout.count()));
  o.retry.max_attempts = static_cast<unsigned>(a.integer("retries", o.retry.max_attempts - 1) + 1);
  o.parallel = static_cast<unsigned>(a.integer("parallel", o.parallel));
  o.chunk_size = a.size("chunk-size", o.chunk_size);
  return o;
}

Result<images::Platform> parse_platform_flag(std::string_view text) {
  if (text.empty()) return images::host_platform();
  images::Platform p;
  std::vector<std::string> parts;
  for (size_t s = 0;;) {
    size_t e = text.find('/', s);
    parts.emplace_back(text.substr(s, e == std::string_view::npos ? text.npos : e - s));
    if (e == std::string_view::npos) break;
    s = e + 1;
  }
  bool ok = parts.size() >= 2 && parts.size() <= 3;
  for (const auto& x : parts) ok = ok && !x.empty();
  if (!ok) return Error::msg("--platform: expected os/arch[/variant], got \"" + std::string(text) + "\"");
  p.os = parts[0];
  p.architecture = parts[1];
  if (parts.size() == 3) p.variant = parts[2];
  return images::normalize_platform(p);
}

images::UnpackOptions unpack_options_for_caller() {
  images::UnpackOptions o;
  if (::geteuid() != 0) {
    o.set_owner = false;
    o.create_devices = false;
    o.overlay_xattr_prefix = "user.overlay.";
    o.ignore_xattr_errors = true;
  }
  return o;
}

void print(const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(1, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

}  // namespace berth::image_cli
