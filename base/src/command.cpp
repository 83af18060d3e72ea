// command.cpp — run_command: spawn with a pipe for the output.
#include "berth/base/command.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/base/fd.h"
#include "berth/base/spawn.h"

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
  SpawnOptions so;
  so.in = Stdio::null();
  if (!opts.inherit_output) so.out = so.err = Stdio::use(wr.get());
  auto child = spawn(argv, so);
  if (!child) return Error(child.error().code(), "run " + prog);
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
  auto status = child->wait();
  if (!status) return Error(status.error().code(), "wait for " + prog);
  if (WIFEXITED(*status) && WEXITSTATUS(*status) == 0) return out;
  std::string tail = last_lines(out);
  return Error::msg(prog + ": " + describe_wait_status(*status) + (tail.empty() ? "" : ": " + tail));
}

}  // namespace berth
