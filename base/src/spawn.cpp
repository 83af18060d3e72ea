// spawn.cpp — spawn: posix_spawn with the child's fds, session and signal
// mask; ChildProcess.
#include "berth/base/spawn.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "berth/base/fd.h"

extern char** environ;

namespace berth {
namespace {

std::vector<char*> c_strings(const std::vector<std::string>& v) {
  std::vector<char*> out;
  for (const auto& s : v) out.push_back(const_cast<char*>(s.c_str()));
  out.push_back(nullptr);
  return out;
}

// The file actions: fd n of the child from `slots[n]`. A parent fd below
// the slots' count is first duplicated above it, so that no dup2 reads an
// fd an earlier one already replaced, and every dup2 is a real one (which
// clears close-on-exec). `moved` holds those duplicates until the spawn.
Status add_fds(posix_spawn_file_actions_t* fa, const std::vector<Stdio>& slots, bool close_others,
               std::vector<UniqueFd>* moved, const std::string& what) {
  int top = static_cast<int>(std::max<size_t>(slots.size(), 3));
  for (int n = 0; n < static_cast<int>(slots.size()); ++n) {
    const Stdio& s = slots[static_cast<size_t>(n)];
    if (s.kind == Stdio::Kind::null) {
      int mode = n == 0 ? O_RDONLY : O_WRONLY;
      if (int e = ::posix_spawn_file_actions_addopen(fa, n, "/dev/null", mode, 0); e != 0) return Error(e, what);
    } else if (s.kind == Stdio::Kind::fd) {
      int src = s.fd;
      if (src < top) {
        moved->emplace_back(::fcntl(src, F_DUPFD_CLOEXEC, top));
        if (!moved->back()) return Error::os(what + ": dup fd " + std::to_string(src));
        src = moved->back().get();
      }
      if (int e = ::posix_spawn_file_actions_adddup2(fa, src, n); e != 0) return Error(e, what);
    }
  }
  if (close_others) {
    if (int e = ::posix_spawn_file_actions_addclosefrom_np(fa, top); e != 0) return Error(e, what);
  }
  return ok();
}

}  // namespace

ChildProcess& ChildProcess::operator=(ChildProcess&& o) noexcept {
  if (this != &o) {
    ChildProcess old(release());
    pid_ = o.release();
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  (void)wait();
}

Result<int> ChildProcess::wait() {
  int status = 0;
  pid_t pid = release();  // even on an error: someone else reaped it, the pid may be reused
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error::os("wait for " + std::to_string(pid));
  }
  return status;
}

pid_t ChildProcess::release() { return std::exchange(pid_, -1); }

Result<ChildProcess> spawn(const std::vector<std::string>& argv, const SpawnOptions& opts) {
  if (argv.empty()) return Error(EINVAL, "spawn: empty argv");
  std::vector<Stdio> slots = {opts.in, opts.out, opts.err};
  slots.insert(slots.end(), opts.extra.begin(), opts.extra.end());

  posix_spawn_file_actions_t fa;
  posix_spawnattr_t attr;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawnattr_init(&attr);
  Defer free_spawn([&] {
    ::posix_spawn_file_actions_destroy(&fa);
    ::posix_spawnattr_destroy(&attr);
  });
  std::vector<UniqueFd> moved;
  const std::string what = "spawn " + argv[0];
  BERTH_TRY(add_fds(&fa, slots, opts.close_other_fds, &moved, what));
  short flags = 0;
  if (opts.new_session) flags |= POSIX_SPAWN_SETSID;
  if (opts.unblock_signals) {
    sigset_t none;
    sigemptyset(&none);
    ::posix_spawnattr_setsigmask(&attr, &none);
    flags |= POSIX_SPAWN_SETSIGMASK;
  }
  ::posix_spawnattr_setflags(&attr, flags);

  std::vector<char*> args = c_strings(argv);
  std::vector<char*> envp = opts.env ? c_strings(*opts.env) : std::vector<char*>{};
  char** env = opts.env ? envp.data() : environ;
  auto start = opts.search_path ? ::posix_spawnp : ::posix_spawn;
  pid_t pid = -1;
  if (int e = start(&pid, argv[0].c_str(), &fa, &attr, args.data(), env); e != 0) return Error(e, what);
  return ChildProcess(pid);
}

std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  return std::string("killed by signal ") + ::strsignal(WTERMSIG(status));
}

}  // namespace berth
