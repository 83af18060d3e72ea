// args.cpp — flag parsing and the option groups shared by commands.
#include "args.h"

#include <unistd.h>

#include "berth/images/manifest.h"

namespace berth::image_cli {

Result<Args> Args::parse(std::string_view cmd, const std::vector<std::string>& argv, const std::vector<Flag>& flags) {
  Args out;
  out.cmd_ = std::string(cmd);
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      out.positional_.insert(out.positional_.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      out.positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const Flag* f = nullptr;
    for (const auto& fl : flags)
      if (fl.name == name) f = &fl;
    if (!f) return Error::msg(out.cmd_ + ": unknown flag --" + name);
    if (f->takes_value && !value) {
      if (i + 1 >= argv.size()) return Error::msg(out.cmd_ + ": --" + name + ": needs a value");
      value = argv[++i];
    }
    if (!f->takes_value && value) return Error::msg(out.cmd_ + ": --" + name + ": takes no value");
    out.values_[name] = value.value_or("true");
  }
  return out;
}

std::string Args::get(const std::string& name, const std::string& def) const {
  auto it = values_.find(name);
  return it == values_.end() ? def : it->second;
}

Status Args::expect(const std::vector<std::string>& names) const {
  if (positional_.size() == names.size()) return {};
  std::string want;
  for (const auto& n : names) want += " " + n;
  if (positional_.size() < names.size())
    return Error::msg(cmd_ + ": missing " + names[positional_.size()] + " (usage: " + cmd_ + want + ")");
  return Error::msg(cmd_ + ": unexpected argument \"" + positional_[names.size()] + "\" (usage: " + cmd_ + want + ")");
}

Result<uint64_t> Args::number(const std::string& name, uint64_t def) const {
  if (!has(name)) return def;
  std::string v = get(name);
  if (v.empty() || v.size() > 18 || v.find_first_not_of("0123456789") != std::string::npos)
    return Error::msg(cmd_ + ": --" + name + ": expected a non-negative integer, got \"" + v + "\"");
  return std::stoull(v);
}

std::vector<Flag> registry_flags() {
  return {{"ca"}, {"creds"}, {"creds-file"}, {"plain-http", false}, {"timeout"}, {"retries"}, {"parallel"}, {"chunk-size"}};
}

Result<images::RegistryOptions> registry_options(const Args& a) {
  images::RegistryOptions o;
  o.ca_file = a.get("ca");
  o.plain_http = a.has("plain-http");
  if (a.has("creds") && a.has("creds-file")) return Error::msg(a.command() + ": --creds and --creds-file exclude each other");
  if (a.has("creds")) o.credentials = BERTH_TRY(images::parse_credentials(a.get("creds"), a.command() + ": --creds"));
  if (a.has("creds-file")) o.credentials = BERTH_TRY_CTX(images::read_credentials_file(a.get("creds-file")), a.command() + ": --creds-file");
  uint64_t timeout = BERTH_TRY(a.number("timeout", static_cast<uint64_t>(o.timeout.count())));
  if (timeout == 0) return Error::msg(a.command() + ": --timeout: must be at least 1 second");
  o.timeout = std::chrono::seconds(timeout);
  o.retry.max_attempts = static_cast<unsigned>(BERTH_TRY(a.number("retries", o.retry.max_attempts - 1)) + 1);
  uint64_t parallel = BERTH_TRY(a.number("parallel", o.parallel));
  if (parallel == 0 || parallel > 32) return Error::msg(a.command() + ": --parallel: expected 1-32");
  o.parallel = static_cast<unsigned>(parallel);
  o.chunk_size = BERTH_TRY(a.number("chunk-size", o.chunk_size));
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
