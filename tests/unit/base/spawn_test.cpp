// spawn_test.cpp — spawn's fds, environment, session and signal mask;
// ChildProcess waiting and killing.
#include "berth/base/spawn.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "pipe.h"

namespace berth {
namespace {

using testing::Pipe;

// Runs `script` under /bin/sh with stdout to a pipe; returns what it printed.
std::string sh_output(const std::string& script, SpawnOptions o = {}) {
  Pipe p;
  o.out = Stdio::use(p.wr.get());
  o.search_path = false;
  auto c = spawn({"/bin/sh", "-c", script}, o);
  EXPECT_TRUE(c) << c.error().what();
  if (!c) return "";
  std::string out = p.drain();
  auto st = c->wait();
  EXPECT_TRUE(st && WIFEXITED(*st) && WEXITSTATUS(*st) == 0);
  return out;
}

TEST(Spawn, WaitGivesTheExitStatus) {
  auto c = spawn({"sh", "-c", "exit 3"});
  ASSERT_TRUE(c) << c.error().what();
  auto st = c->wait();
  ASSERT_TRUE(st);
  EXPECT_TRUE(WIFEXITED(*st));
  EXPECT_EQ(WEXITSTATUS(*st), 3);
  EXPECT_EQ(describe_wait_status(*st), "exit status 3");
  EXPECT_EQ(c->pid(), -1);
}

TEST(Spawn, MissingProgramIsEnoent) {
  auto c = spawn({"/nonexistent/berth-prog"});
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code(), ENOENT);
  EXPECT_EQ(c.error().message(), "spawn /nonexistent/berth-prog");
  EXPECT_FALSE(spawn({}));
}

TEST(Spawn, StdoutAndStdinAsGiven) {
  EXPECT_EQ(sh_output("echo hi"), "hi\n");
  SpawnOptions o;
  o.in = Stdio::null();
  EXPECT_EQ(sh_output("cat; echo end", o), "end\n");
}

TEST(Spawn, ExtraFdsEvenWhenTheirNumbersCross) {
  // The parent's 20 goes to the child's 21 and its 21 to 20: neither dup2
  // may read an fd the other already replaced.
  Pipe a, b;
  for (int fd : {20, 21})
    if (::fcntl(fd, F_GETFD) >= 0) GTEST_SKIP() << "fd " << fd << " is in use";
  UniqueFd at20(::dup3(a.wr.get(), 20, O_CLOEXEC)), at21(::dup3(b.wr.get(), 21, O_CLOEXEC));
  ASSERT_TRUE(at20 && at21);
  SpawnOptions o;
  o.extra.resize(19);
  o.extra[17] = Stdio::use(21);
  o.extra[18] = Stdio::use(20);
  // Through /proc: sh's redirections name fds up to 9 only.
  sh_output("echo to-b >/proc/$$/fd/20; echo to-a >/proc/$$/fd/21", o);
  at20.reset();
  at21.reset();
  EXPECT_EQ(a.drain(), "to-a\n");
  EXPECT_EQ(b.drain(), "to-b\n");
}

TEST(Spawn, CloseOtherFds) {
  Pipe p;
  UniqueFd leaked(::dup(p.wr.get()));  // not close-on-exec
  std::string probe = "test -e /proc/$$/fd/" + std::to_string(leaked.get()) + " && echo open || echo closed";
  EXPECT_EQ(sh_output(probe), "open\n");
  SpawnOptions o;
  o.close_other_fds = true;
  EXPECT_EQ(sh_output(probe, o), "closed\n");
}

TEST(Spawn, Environment) {
  SpawnOptions o;
  o.env = std::vector<std::string>{"BERTH_X=1"};
  EXPECT_EQ(sh_output("echo \"$BERTH_X${HOME:-nohome}\"", o), "1nohome\n");
}

TEST(Spawn, SessionAndSignalMask) {
  SpawnOptions o;
  o.new_session = true;
  EXPECT_EQ(sh_output("[ \"$(cut -d' ' -f6 /proc/$$/stat)\" = $$ ] && echo leader", o), "leader\n");

  sigset_t usr1, old;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr1, &old), 0);
  // The mask, from /proc/self/status ("SigBlk:\t<hex>") of what sh execs
  // (a sh waiting for a child blocks every signal itself).
  auto blocked = [&] {
    return std::stoull(sh_output("exec sed -n 's/^SigBlk:\\t//p' /proc/self/status", o), nullptr, 16);
  };
  o.unblock_signals = false;
  unsigned long long inherited = blocked();
  o.unblock_signals = true;
  unsigned long long cleared = blocked();
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
  EXPECT_TRUE(inherited & (1ull << (SIGUSR1 - 1)));
  EXPECT_EQ(cleared, 0u);
}

TEST(Spawn, DroppedChildIsKilledAndReaped) {
  pid_t pid;
  {
    auto c = spawn({"sleep", "100"});
    ASSERT_TRUE(c);
    pid = c->pid();
  }
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
  EXPECT_EQ(describe_wait_status(SIGKILL), "killed by signal Killed");
}

}  // namespace
}  // namespace berth
