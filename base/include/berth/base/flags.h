// flags.h — the command-line flag parser of every berth program: the
// flags a command takes, their kinds and ranges, checked while parsing so
// that a bad value is refused naming the flag, never read as 0.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth::flags {

/// One flag a command takes.
struct Flag {
  enum class Kind { boolean, text, integer, number, size };
  std::vector<std::string> names;  // the first is the one values are kept under: {"bundle", "b"}
  Kind kind = Kind::text;
  double min = 0, max = 0;  // integer, number, size: the range, inclusive (min == max: any)
  bool above_min = false;   // number: strictly more than min

  static Flag boolean(std::vector<std::string> names) { return {std::move(names), Kind::boolean}; }
  static Flag text(std::vector<std::string> names) { return {std::move(names), Kind::text}; }
  static Flag integer(std::vector<std::string> names, double min = 0, double max = 0) {
    return {std::move(names), Kind::integer, min, max};
  }
  static Flag number(std::vector<std::string> names, double min, double max, bool above_min = false) {
    return {std::move(names), Kind::number, min, max, above_min};
  }
  /// Bytes, written "4096", "512M", "2GiB" (parse_size's forms).
  static Flag size(std::vector<std::string> names) { return {std::move(names), Kind::size}; }
  bool takes_value() const { return kind != Kind::boolean; }
};

/// How a program spells its flags and words its refusals.
enum class Dialect {
  /// --name, --name=value, -x for a one-letter name; refusals say
  /// "COMMAND: unknown flag --name".
  gnu,
  /// runc's: also -name for a long name, and a boolean may be given a
  /// value (--detach=true); refusals in urfave/cli's words ("flag
  /// provided but not defined: -name"), which runc's callers match.
  runc,
};

struct Options {
  Dialect dialect = Dialect::gnu;
  /// The first positional word ends the flags: what follows is the
  /// command's own (exec NAME ls -l).
  bool stop_at_first_positional = false;
  /// Named in refusals ("image pull"); none when empty.
  std::string command;
  /// Refuse a text flag given an empty value (--etcd ""); by default an
  /// empty value is taken as given, as scripts pass unset variables.
  bool refuse_empty_text = false;
};

/// The code of the error parse() returns for -h/--help when the command
/// declares no flag of that name: the program prints its usage on stdout
/// and exits 0. The error's message lists the declared flags.
constexpr int kHelpAsked = 1000;

/// Parsed flags and positionals. A flag given twice keeps both values:
/// get() reads the last, all() every one.
class Args {
public:
  static Result<Args> parse(const std::vector<std::string>& argv, const std::vector<Flag>& flags,
                            const Options& options = {});
  /// argv[from..argc).
  static Result<Args> parse(int argc, char** argv, int from, const std::vector<Flag>& flags,
                            const Options& options = {});

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& def = "") const;
  std::vector<std::string> all(const std::string& name) const;
  /// The value of an integer, number or size flag (checked by parse), or `def`.
  int64_t integer(const std::string& name, int64_t def) const;
  double number(const std::string& name, double def) const;
  uint64_t size(const std::string& name, uint64_t def) const;

  const std::vector<std::string>& positional() const { return positional_; }
  /// Exactly `names.size()` positionals, or an error naming the first one
  /// missing or the first one too many, with the usage.
  Status expect(const std::vector<std::string>& names) const;
  /// Refuses a flag given that `verb` does not take (for programs that
  /// parse every verb's flags at once).
  Status only(const std::vector<std::string>& takes, const std::string& verb) const;
  const std::string& command() const { return command_; }

private:
  std::string command_;
  std::multimap<std::string, std::string> values_;  // keyed by a flag's first name
  std::vector<std::string> positional_;
};

/// A program's command line: its global flags, then a command word and
/// that command's arguments.
struct CommandLine {
  Args globals;
  std::string command;
  std::vector<std::string> rest;
  /// Set when the program is done: the usage was printed (on stdout for
  /// --help and `COMMAND --help`, on stderr for a refusal or no command)
  /// and this is the exit status (0 or 2).
  std::optional<int> exit;
};

/// Parses the global `flags` before the command word. `-h`/`--help`
/// prints `usage`; `COMMAND --help` prints that command's usage lines
/// (verb_help); a refused flag or a missing command is named on stderr
/// as "PROGRAM: ..." with the usage.
CommandLine parse_command_line(const std::string& program, const std::string& usage,
                               const std::vector<std::string>& argv, const std::vector<Flag>& flags);

/// The declared flags, one a line ("  --bundle, -b VALUE"), for usage texts.
std::string describe(const std::vector<Flag>& flags);

}  // namespace berth::flags
