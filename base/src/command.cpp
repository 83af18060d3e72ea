// command.cpp — run_command: posix_spawnp with a pipe for the output.
#include "berth/base/command.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "berth/base/fd.h"

extern char** environ;

namespace berth {
namespace {

std::string last_lines(std::string out) {
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  size_t cut = out.size() > 400 ? out.size() - 400 : 0;
  std::string tail = out.substr(cut);
  for (auto& c : tail)
    if (c == '\n') c = ' ';
  return tail;
}

}  // namespace

Result<std::string> run_command(const std::vector<std::string>& argv, const CommandOptions& opts) {
  if (argv.empty()) return Error::msg("run_command: empty argv");
  const std::string& prog = argv[0];
  int p[2] = {-1, -1};
  if (!opts.inherit_output && ::pipe2(p, O_CLOEXEC) < 0) return Error::os("pipe for " + prog);
  UniqueFd rd(p[0]), wr(p[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (!opts.inherit_output) {
    posix_spawn_file_actions_adddup2(&fa, wr.get(), 1);
    posix_spawn_file_actions_adddup2(&fa, wr.get(), 2);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, prog.c_str(), &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return Error(rc, "run " + prog);
  wr.reset();

  std::string out;
  if (rd.valid()) {
    char buf[4096];
    for (;;) {
      ssize_t n = ::read(rd.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      if (out.size() > opts.output_limit) out.erase(0, out.size() - opts.output_limit);
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::os("wait for " + prog);
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return out;
  std::string why = WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                      : std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
  std::string tail = last_lines(out);
  return Error::msg(prog + ": " + why + (tail.empty() ? "" : ": " + tail));
}

}  // namespace berth
