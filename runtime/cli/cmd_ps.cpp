// cmd_ps.cpp — `ps`: the container's processes, as JSON pids or ps(1) rows.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "args.h"
#include "commands.h"

namespace berth::cli {

Result<int> cmd_ps(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {Flag::text({"format", "f"})}, true));
  if (a.positional().empty()) return Error::msg("ps: expected a container id");
  std::string id = a.positional()[0];
  auto pids = BERTH_TRY(runtime::pids(g, id));
  std::string fmt = a.get("format", "table");
  if (fmt == "json") {
    json::Value arr = json::Value::array();
    for (pid_t p : pids) arr.push_back(static_cast<int64_t>(p));
    print(json::dump(arr) + "\n");
    return 0;
  }
  if (fmt != "table") return Error::msg("--format: expected table or json, got " + fmt);
  // Run ps(1) with the caller's arguments and keep the header and our rows.
  std::string cmd = "ps";
  std::vector<std::string> extra(a.positional().begin() + 1, a.positional().end());
  if (extra.empty()) extra = {"-ef"};
  for (const auto& e : extra) {
    if (e.find('\'') != std::string::npos) return Error::msg("ps: argument with a quote: " + e);
    cmd += " '" + e + "'";
  }
  FILE* f = ::popen(cmd.c_str(), "r");
  if (!f) return Error::os("run ps");
  char line[4096];
  int pid_col = -1;
  bool header = true;
  std::string out;
  while (std::fgets(line, sizeof line, f)) {
    std::string l(line);
    std::vector<std::string> cols;
    size_t i = 0;
    while (i < l.size()) {
      while (i < l.size() && (l[i] == ' ' || l[i] == '\n')) ++i;
      size_t j = i;
      while (j < l.size() && l[j] != ' ' && l[j] != '\n') ++j;
      if (j > i) cols.push_back(l.substr(i, j - i));
      i = j;
    }
    if (header) {
      for (size_t c = 0; c < cols.size(); ++c)
        if (cols[c] == "PID") pid_col = static_cast<int>(c);
      header = false;
      out += l;
      if (pid_col < 0) {
        ::pclose(f);
        return Error::msg("ps: no PID column in ps output");
      }
      continue;
    }
    if (static_cast<int>(cols.size()) <= pid_col) continue;
    pid_t p = static_cast<pid_t>(std::atoi(cols[static_cast<size_t>(pid_col)].c_str()));
    if (std::find(pids.begin(), pids.end(), p) != pids.end()) out += l;
  }
  ::pclose(f);
  print(out);
  return 0;
}

}  // namespace berth::cli
