// cli_test.cpp — the berth binary's command table: help on stdout with
// exit status 0 for the whole CLI and for each verb, an unknown verb named
// on stderr with exit status 2. Needs no berthd.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "berth/base/fs.h"

using namespace berth;

namespace {

struct Outcome {
  int status;
  std::string out, err;
};

// Runs the built berth with `args`, its stdout and stderr kept apart.
Outcome run(std::vector<std::string> args) {
  args.insert(args.begin(), BERTH_CLI);
  // No berthd: a verb that tried to reach one would fail, not hang.
  args.insert(args.begin() + 1, {"--socket", "/nonexistent/berthd.sock"});
  char dir_template[] = "/tmp/berth-cli-test.XXXXXX";
  std::string dir = ::mkdtemp(dir_template);
  std::string out = dir + "/out", err = dir + "/err";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 1);
    ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600), 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  Outcome r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, fs::read_file(out).value(), fs::read_file(err).value()};
  ::unlink(out.c_str());
  ::unlink(err.c_str());
  ::rmdir(dir.c_str());
  return r;
}

}  // namespace

TEST(Cli, HelpOnStdout) {
  for (auto args : std::vector<std::vector<std::string>>{{"--help"}, {"-h"}, {"help"}}) {
    Outcome r = run(args);
    EXPECT_EQ(r.status, 0) << args[0];
    EXPECT_EQ(r.out.rfind("usage: berth ", 0), 0u) << r.out;
    EXPECT_EQ(r.err, "");
  }
}

TEST(Cli, EveryVerbAnswersHelp) {
  for (const char* verb :
       {"create",   "start",    "restart", "suspend",   "resume",    "stop",   "destroy", "autostart", "set",
        "snapshot", "rollback", "commit",  "snapshots", "list",      "status", "log",     "events",    "metrics",
        "exec",     "enter",    "console", "image",     "operation", "trust",  "project", "network"}) {
    Outcome r = run({verb, "--help"});
    EXPECT_EQ(r.status, 0) << verb << ": " << r.err;
    EXPECT_NE(r.out.find(verb), std::string::npos) << verb << ": " << r.out;
    Outcome h = run({"help", verb});
    EXPECT_EQ(h.status, 0) << verb;
    EXPECT_EQ(h.out, r.out) << verb;
  }
}

TEST(Cli, ImageSubVerbHelp) {
  Outcome r = run({"image", "pull", "--help"});
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("berth image pull REF"), std::string::npos) << r.out;
}

TEST(Cli, UnknownVerbNamedOnStderr) {
  Outcome r = run({"frobnicate"});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("unknown command frobnicate"), std::string::npos) << r.err;
  Outcome h = run({"help", "frobnicate"});
  EXPECT_EQ(h.status, 2);
  EXPECT_NE(h.err.find("frobnicate"), std::string::npos) << h.err;
}

TEST(Cli, NoVerbIsUsageOnStderr) {
  Outcome r = run({});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("usage: berth ", 0), 0u);
}

TEST(Cli, VersionAndUnreachable) {
  Outcome v = run({"--version"});
  EXPECT_EQ(v.status, 0);
  EXPECT_EQ(v.out.rfind("berth version ", 0), 0u);
  Outcome l = run({"list"});
  EXPECT_EQ(l.status, 5);
  EXPECT_NE(l.err.find("cannot reach berthd"), std::string::npos) << l.err;
}

TEST(Cli, FlagRefusalsNameTheFlag) {
  Outcome r = run({"stop", "a", "--bogus"});
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("unknown flag --bogus"), std::string::npos) << r.err;
  Outcome t = run({"network", "create", "n", "--mtu", "70000"});
  EXPECT_EQ(t.status, 2);
  EXPECT_NE(t.err.find("--mtu"), std::string::npos) << t.err;
  // --help after a verb's other arguments is the verb's usage too.
  Outcome h = run({"image", "pull", "ref", "--help"});
  EXPECT_EQ(h.status, 0);
  EXPECT_NE(h.out.find("berth image pull REF"), std::string::npos) << h.out;
  Outcome g = run({"--bogus", "list"});
  EXPECT_EQ(g.status, 2);
  EXPECT_NE(g.err.find("--bogus"), std::string::npos) << g.err;
}

TEST(Cli, BadUsageIsExitTwo) {
  EXPECT_EQ(run({"start"}).status, 2);
  EXPECT_EQ(run({"exec", "-t", "--timeout", "5", "a", "sh"}).status, 2);
  EXPECT_EQ(run({"stop", "a", "--timeout", "soon"}).status, 2);
  EXPECT_EQ(run({"network", "create", "n", "--mtu", "big"}).status, 2);
}
