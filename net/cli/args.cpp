// args.cpp — berth-net flag parsing.
#include "args.h"

#include <charconv>
#include <cstdio>

namespace berth::net_cli {

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::set<std::string>& valued,
                         const std::set<std::string>& boolean) {
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& s = argv[i];
    if (s == "--") {
      a.pos_.insert(a.pos_.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    }
    if (!s.starts_with("--")) {
      a.pos_.push_back(s);
      continue;
    }
    std::string name = s.substr(2), value;
    auto eq = name.find('=');
    bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name.resize(eq);
    }
    if (boolean.count(name)) {
      if (inline_value) return Error::msg("--" + name + " takes no value");
      a.values_[name].push_back("true");
    } else if (valued.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argv.size()) return Error::msg("--" + name + " needs a value");
        value = argv[++i];
      }
      a.values_[name].push_back(value);
    } else {
      return Error::msg("unknown flag --" + name);
    }
  }
  return a;
}

std::string Args::get(const std::string& f, const std::string& def) const {
  auto it = values_.find(f);
  return it == values_.end() ? def : it->second.back();
}

const std::vector<std::string>& Args::all(const std::string& f) const {
  static const std::vector<std::string> none;
  auto it = values_.find(f);
  return it == values_.end() ? none : it->second;
}

Status Args::expect(size_t n, const std::string& usage) const {
  if (pos_.size() != n) return Error::msg("expected " + usage);
  return ok();
}

Result<uint64_t> parse_rate(const std::string& flag, const std::string& text) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  std::string unit(ptr, text.data() + text.size());
  uint64_t mult = 0;
  if (unit.empty()) mult = 8;  // plain bytes per second
  else if (unit == "kbit") mult = 1000;
  else if (unit == "mbit") mult = 1000 * 1000;
  else if (unit == "gbit") mult = 1000 * 1000 * 1000;
  if (ec != std::errc() || ptr == text.data() || mult == 0)
    return Error::msg("--" + flag + ": \"" + text + "\" is not a rate (bytes/s, or N kbit|mbit|gbit)");
  return v * mult / 8;
}

void print(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

}  // namespace berth::net_cli
