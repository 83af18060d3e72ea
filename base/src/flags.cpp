// flags.cpp — the flag parser.
#include "berth/base/flags.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "berth/base/strings.h"

namespace berth::flags {

namespace {

std::string show(double v) {
  char b[32];
  std::snprintf(b, sizeof b, v == std::floor(v) && std::fabs(v) < 1e15 ? "%.0f" : "%g", v);
  return b;
}

const char* kind_name(Flag::Kind k) {
  switch (k) {
    case Flag::Kind::integer: return "an integer";
    case Flag::Kind::size: return "a size";
    default: return "a number";
  }
}

// The value of `f` checked against its kind and range; `shown` is how the
// flag is named in the refusal.
Status check_value(const Flag& f, const std::string& shown, const std::string& v, const Options& o) {
  if (f.kind == Flag::Kind::text || f.kind == Flag::Kind::boolean) {
    if (v.empty() && f.kind == Flag::Kind::text && o.refuse_empty_text)
      return Error::msg(shown + ": expected a value, got \"\"");
    return ok();
  }
  double value = 0;
  if (f.kind == Flag::Kind::size) {
    auto bytes = parse_size(v);
    if (!bytes) return Error::msg(shown + ": " + bytes.error().message());
    value = static_cast<double>(*bytes);
  } else {
    char* end = nullptr;
    errno = 0;
    if (f.kind == Flag::Kind::integer) {
      long long n = std::strtoll(v.c_str(), &end, 10);
      if (v.empty() || *end || errno) return Error::msg(shown + ": expected an integer, got \"" + v + "\"");
      value = static_cast<double>(n);
    } else {
      value = std::strtod(v.c_str(), &end);
      if (v.empty() || *end || errno || !std::isfinite(value))
        return Error::msg(shown + ": expected a number, got \"" + v + "\"");
    }
  }
  if (f.min == f.max) return ok();
  bool low = f.above_min ? value <= f.min : value < f.min;
  if (low || value > f.max)
    return Error::msg(shown + ": expected " + kind_name(f.kind) + " from " + show(f.min) +
                      (f.above_min ? " (excluded)" : "") + " to " + show(f.max) + ", got \"" + v + "\"");
  return ok();
}

const Flag* find(const std::vector<Flag>& flags, const std::string& name) {
  for (const auto& f : flags)
    for (const auto& n : f.names)
      if (n == name) return &f;
  return nullptr;
}

}  // namespace

Result<Args> Args::parse(const std::vector<std::string>& argv, const std::vector<Flag>& flags, const Options& options) {
  const bool runc = options.dialect == Dialect::runc;
  const std::string where = options.command.empty() ? "" : options.command + ": ";
  Args out;
  out.command_ = options.command;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      out.positional_.insert(out.positional_.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    }
    if (a.size() < 2 || a[0] != '-') {
      if (options.stop_at_first_positional) {
        out.positional_.insert(out.positional_.end(), argv.begin() + static_cast<long>(i), argv.end());
        break;
      }
      out.positional_.push_back(a);
      continue;
    }
    const bool dashes = a[1] == '-';
    std::string name = a.substr(dashes ? 2 : 1);
    std::string value;
    bool inline_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
      inline_value = true;
    }
    // GNU spelling: one dash for one letter, two for a word.
    bool spelled_right = runc || (dashes ? name.size() > 1 : name.size() == 1);
    const Flag* f = spelled_right ? find(flags, name) : nullptr;
    if (!f && (name == "help" || name == "h") && !find(flags, name)) {
      std::string usage = describe(flags);
      return Error(kHelpAsked, usage.empty() ? "no flags\n" : "flags:\n" + usage);
    }
    if (!f)
      return Error::msg(runc ? "flag provided but not defined: -" + name
                             : where + "unknown flag " + a.substr(0, a.find('=')));
    const std::string shown = where + (name.size() == 1 ? "-" : "--") + name;
    if (f->takes_value() && !inline_value) {
      if (i + 1 >= argv.size())
        return Error::msg(runc ? "flag needs an argument: -" + name : shown + ": needs a value");
      value = argv[++i];
    } else if (!f->takes_value()) {
      if (inline_value && !runc) return Error::msg(shown + ": takes no value");
      if (!inline_value) value = "true";
    }
    BERTH_TRY(check_value(*f, shown, value, options));
    out.values_.emplace(f->names[0], value);
  }
  return out;
}

Result<Args> Args::parse(int argc, char** argv, int from, const std::vector<Flag>& flags, const Options& options) {
  std::vector<std::string> words;
  for (int i = from; i < argc; ++i) words.emplace_back(argv[i]);
  return parse(words, flags, options);
}

std::string Args::get(const std::string& name, const std::string& def) const {
  auto range = values_.equal_range(name);
  if (range.first == range.second) return def;
  return std::prev(range.second)->second;
}

std::vector<std::string> Args::all(const std::string& name) const {
  std::vector<std::string> out;
  auto range = values_.equal_range(name);
  for (auto it = range.first; it != range.second; ++it) out.push_back(it->second);
  return out;
}

int64_t Args::integer(const std::string& name, int64_t def) const {
  return has(name) ? std::strtoll(get(name).c_str(), nullptr, 10) : def;
}

double Args::number(const std::string& name, double def) const {
  return has(name) ? std::strtod(get(name).c_str(), nullptr) : def;
}

uint64_t Args::size(const std::string& name, uint64_t def) const {
  if (!has(name)) return def;
  auto bytes = parse_size(get(name));
  return bytes ? *bytes : def;
}

Status Args::expect(const std::vector<std::string>& names) const {
  if (positional_.size() == names.size()) return ok();
  std::string usage = command_;
  for (const auto& n : names) usage += " " + n;
  const std::string where = command_.empty() ? "" : command_ + ": ";
  if (positional_.size() < names.size())
    return Error::msg(where + "missing " + names[positional_.size()] + " (usage: " + usage + ")");
  return Error::msg(where + "unexpected argument \"" + positional_[names.size()] + "\" (usage: " + usage + ")");
}

Status Args::only(const std::vector<std::string>& takes, const std::string& verb) const {
  for (const auto& [name, value] : values_) {
    bool taken = false;
    for (const auto& t : takes) taken |= t == name;
    if (!taken) return Error::msg("--" + name + ": not an option of " + verb);
  }
  return ok();
}

CommandLine parse_command_line(const std::string& program, const std::string& usage,
                               const std::vector<std::string>& argv, const std::vector<Flag>& flags) {
  CommandLine out;
  auto parsed = Args::parse(argv, flags, {Dialect::gnu, true});
  if (!parsed && parsed.error().code() == kHelpAsked) {
    std::fwrite(usage.data(), 1, usage.size(), stdout);
    out.exit = 0;
    return out;
  }
  if (!parsed || parsed->positional().empty()) {
    std::string why = parsed ? "missing command" : parsed.error().what();
    std::fprintf(stderr, "%s: %s\n%s", program.c_str(), why.c_str(), usage.c_str());
    out.exit = 2;
    return out;
  }
  out.globals = std::move(*parsed);
  const auto& words = out.globals.positional();
  out.command = words[0];
  out.rest.assign(words.begin() + 1, words.end());
  if (!out.rest.empty() && (out.rest[0] == "--help" || out.rest[0] == "-h"))
    out.exit = verb_help(program, usage, out.command);
  return out;
}

std::string describe(const std::vector<Flag>& flags) {
  std::string out;
  for (const auto& f : flags) {
    out += "  ";
    for (size_t k = 0; k < f.names.size(); ++k)
      out += (k ? ", " : "") + std::string(f.names[k].size() > 1 ? "--" : "-") + f.names[k];
    out += f.takes_value() ? " VALUE\n" : "\n";
  }
  return out;
}

}  // namespace berth::flags
