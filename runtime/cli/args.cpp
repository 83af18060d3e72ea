// args.cpp — flag parsing.
#include "args.h"

namespace berth::cli {

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::vector<FlagSpec>& specs,
                         bool stop_at_first_positional) {
  Args out;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      out.positional_.insert(out.positional_.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      if (stop_at_first_positional) {
        out.positional_.insert(out.positional_.end(), argv.begin() + static_cast<long>(i), argv.end());
        break;
      }
      out.positional_.push_back(a);
      continue;
    }
    std::string name = a.substr(a[1] == '-' ? 2 : 1);
    std::optional<std::string> value;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagSpec* spec = nullptr;
    for (const auto& s : specs)
      for (const auto& n : s.names)
        if (n == name) spec = &s;
    if (!spec && (name == "help" || name == "h")) {
      std::string flags;
      for (const auto& s : specs) {
        flags += "  ";
        for (size_t k = 0; k < s.names.size(); ++k) flags += (k ? ", " : "") + std::string(s.names[k].size() > 1 ? "--" : "-") + s.names[k];
        flags += s.takes_value ? " VALUE\n" : "\n";
      }
      return Error(kHelpAsked, flags.empty() ? "no flags\n" : "flags:\n" + flags);
    }
    if (!spec) return Error::msg("flag provided but not defined: -" + name);
    if (spec->takes_value) {
      if (!value) {
        if (i + 1 >= argv.size()) return Error::msg("flag needs an argument: -" + name);
        value = argv[++i];
      }
    } else if (!value) {
      value = "true";
    }
    out.values_.emplace(spec->names[0], *value);
  }
  return out;
}

std::string Args::get(const std::string& name, const std::string& def) const {
  auto range = values_.equal_range(name);
  if (range.first == range.second) return def;
  auto last = range.second;
  --last;
  return last->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

}  // namespace berth::cli
