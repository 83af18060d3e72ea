// seccomp_test.cpp — profile validation errors, and filters loaded in forked children.
#include <dirent.h>
#include <errno.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>

#include "security.h"

namespace berth::runtime {
namespace {

SeccompRule rule(std::vector<std::string> names, std::string action, std::optional<uint32_t> errno_ret = {}) {
  SeccompRule r;
  r.names = std::move(names);
  r.action = std::move(action);
  r.errno_ret = errno_ret;
  return r;
}

Seccomp allow_by_default() {
  Seccomp s;
  s.default_action = "SCMP_ACT_ALLOW";
  s.architectures = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"};
  return s;
}

// Runs `body` in a forked child with no_new_privs set (so an unprivileged
// process may load a filter) and returns its exit status.
int in_child(const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) ::_exit(100);
    ::_exit(body());
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string error_of(const Seccomp& s) {
  auto r = load_seccomp(s);
  return r ? std::string("(loaded)") : r.error().message();
}

TEST(Seccomp, UnknownActionNamesTheRule) {
  Seccomp s = allow_by_default();
  s.syscalls = {rule({"mkdir"}, "SCMP_ACT_ERRNO"), rule({"rmdir"}, "SCMP_ACT_ERRNO"),
                rule({"chmod"}, "SCMP_ACT_FOO")};
  EXPECT_EQ(error_of(s), "linux.seccomp.syscalls[2].action: unknown action SCMP_ACT_FOO");
}

TEST(Seccomp, UnknownDefaultAction) {
  Seccomp s = allow_by_default();
  s.default_action = "SCMP_ACT_NOPE";
  EXPECT_EQ(error_of(s), "linux.seccomp.defaultAction: unknown action SCMP_ACT_NOPE");
}

TEST(Seccomp, UnknownArchitecture) {
  Seccomp s = allow_by_default();
  s.architectures.emplace_back("SCMP_ARCH_VAX");
  EXPECT_EQ(error_of(s), "linux.seccomp.architectures[4]: unknown architecture SCMP_ARCH_VAX");
}

TEST(Seccomp, UnknownFlag) {
  Seccomp s = allow_by_default();
  s.flags = {"SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_BOGUS"};
  EXPECT_EQ(error_of(s), "linux.seccomp.flags[1]: unknown flag SECCOMP_FILTER_FLAG_BOGUS");
}

TEST(Seccomp, BadArguments) {
  Seccomp s = allow_by_default();
  SeccompRule r = rule({"kill"}, "SCMP_ACT_ERRNO");
  r.args = {SeccompArg{0, 1, 0, "SCMP_CMP_EQ"}, SeccompArg{1, 9, 0, "SCMP_CMP_ALMOST"}};
  s.syscalls = {r};
  EXPECT_EQ(error_of(s), "linux.seccomp.syscalls[0].args[1].op: unknown operator SCMP_CMP_ALMOST");

  s.syscalls[0].args = {SeccompArg{6, 1, 0, "SCMP_CMP_EQ"}};
  EXPECT_EQ(error_of(s), "linux.seccomp.syscalls[0].args[0].index: must be below 6, got 6");
}

TEST(Seccomp, ErrnoRuleTakesEffect) {
  char tmpl[] = "/tmp/berth-seccomp-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = std::string(tmpl) + "/sub";

  Seccomp s = allow_by_default();
  s.syscalls = {
      rule({"not_a_syscall_anywhere"}, "SCMP_ACT_KILL"),  // unknown names are skipped
      rule({"getpid"}, "SCMP_ACT_ALLOW"),                 // same as default: skipped
      rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO"),       // errnoRet defaults to EPERM
      rule({"rmdir"}, "SCMP_ACT_ERRNO", ENOTSUP),
  };
  int status = in_child([&] {
    auto fd = load_seccomp(s);
    if (!fd || *fd != -1) return 1;
    if (::mkdir(dir.c_str(), 0700) == 0) return 2;
    if (errno != EPERM) return 3;
    if (::rmdir(tmpl) == 0) return 4;
    if (errno != ENOTSUP) return 5;
    return 0;
  });
  EXPECT_EQ(status, 0);
  ::rmdir(dir.c_str());
  ::rmdir(tmpl);
}

TEST(Seccomp, ArgumentConditions) {
  // umask(0077) is refused, any other mask allowed.
  Seccomp s = allow_by_default();
  SeccompRule r = rule({"umask"}, "SCMP_ACT_ERRNO", EDOM);
  r.args = {SeccompArg{0, 0077, 0, "SCMP_CMP_EQ"}};
  s.syscalls = {r};
  int status = in_child([&] {
    if (!load_seccomp(s)) return 1;
    // glibc's umask() cannot report errors; ask the kernel directly.
    if (::syscall(SYS_umask, 0022) == -1) return 2;
    if (::syscall(SYS_umask, 0077) != -1 || errno != EDOM) return 3;
    return 0;
  });
  EXPECT_EQ(status, 0);
}

TEST(Seccomp, NotifyReturnsListenerFd) {
  Seccomp s = allow_by_default();
  s.syscalls = {rule({"mknodat"}, "SCMP_ACT_NOTIFY")};
  int status = in_child([&] {
    auto fd = load_seccomp(s);
    if (!fd) return 1;
    return *fd >= 0 ? 0 : 2;
  });
  EXPECT_EQ(status, 0);
}

TEST(Seccomp, SendsFdAndStateToListener) {
  char tmpl[] = "/tmp/berth-listener-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/sock";
  int listener = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, path.c_str());
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(listener, 1), 0);

  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const std::string state = R"({"ociVersion":"1.2.0","fds":["seccompFd"],"pid":1})";
  auto sent = send_seccomp_fd(path, state, pipe_fds[1]);
  ASSERT_TRUE(sent) << sent.error().what();

  int conn = ::accept(listener, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  char buf[256] = {};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{buf, sizeof(buf)};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = ::recvmsg(conn, &msg, 0);
  ASSERT_EQ(n, static_cast<ssize_t>(state.size()));
  EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), state);
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  ASSERT_NE(cmsg, nullptr);
  EXPECT_EQ(cmsg->cmsg_type, SCM_RIGHTS);
  int received = -1;
  std::memcpy(&received, CMSG_DATA(cmsg), sizeof(int));
  // The received fd is the pipe's write end: what we write arrives.
  ASSERT_EQ(::write(received, "x", 1), 1);
  char c = 0;
  EXPECT_EQ(::read(pipe_fds[0], &c, 1), 1);
  EXPECT_EQ(c, 'x');

  for (int fd : {received, conn, listener, pipe_fds[0], pipe_fds[1]}) ::close(fd);
  ::unlink(path.c_str());
  ::rmdir(tmpl);
}

TEST(Seccomp, ListenerMissing) {
  auto sent = send_seccomp_fd("/nonexistent/berth/listener.sock", "{}", 0);
  ASSERT_FALSE(sent);
  EXPECT_EQ(sent.error().code(), ENOENT);
  EXPECT_EQ(sent.error().message(), "connect to seccomp listener /nonexistent/berth/listener.sock");
}

// A private temporary directory, removed with what it holds.
struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/berth-seccomp-cache-XXXXXX";
    path = ::mkdtemp(tmpl) ? tmpl : "";
  }
  ~TempDir() {
    std::string cmd = "rm -rf '" + path + "'";
    if (!path.empty()) (void)std::system(cmd.c_str());
  }
  std::vector<std::string> files() const {
    std::vector<std::string> out;
    if (DIR* d = ::opendir((path + "/cache").c_str())) {
      while (dirent* e = ::readdir(d))
        if (e->d_name[0] != '.') out.emplace_back(e->d_name);
      ::closedir(d);
    }
    return out;
  }
};

bool same_program(const SeccompProgram& a, const SeccompProgram& b) {
  return a.flags == b.flags && a.notify == b.notify && a.code.size() == b.code.size() &&
         std::memcmp(a.code.data(), b.code.data(), a.code.size() * sizeof(sock_filter)) == 0;
}

Seccomp notifying_profile(const std::string& listener) {
  Seccomp s = allow_by_default();
  s.syscalls = {rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", ENOTSUP), rule({"sysinfo"}, "SCMP_ACT_NOTIFY")};
  s.flags = {"SECCOMP_FILTER_FLAG_LOG"};
  s.listener_path = listener;
  return s;
}

// The first compile writes the program; the second reads the same one
// back. The listener is not part of the filter: another container's
// listener finds the same file.
TEST(SeccompCache, CompiledOnceThenRead) {
  TempDir t;
  const std::string dir = t.path + "/cache";
  auto fresh = compile_seccomp(notifying_profile("/run/a.sock"));
  ASSERT_TRUE(fresh) << fresh.error().what();
  EXPECT_EQ(fresh->flags, unsigned{SECCOMP_FILTER_FLAG_LOG | SECCOMP_FILTER_FLAG_NEW_LISTENER});
  EXPECT_TRUE(fresh->notify);

  auto first = compile_seccomp_cached(notifying_profile("/run/a.sock"), dir);
  ASSERT_TRUE(first) << first.error().what();
  ASSERT_EQ(t.files().size(), 1u);
  const std::string file = dir + "/" + t.files()[0];
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  struct stat dst {};
  ASSERT_EQ(::stat(dir.c_str(), &dst), 0);
  EXPECT_EQ(dst.st_mode & 0777, 0700u);

  auto second = compile_seccomp_cached(notifying_profile("/run/b.sock"), dir);
  ASSERT_TRUE(second) << second.error().what();
  EXPECT_EQ(t.files().size(), 1u);
  EXPECT_TRUE(same_program(*fresh, *first));
  EXPECT_TRUE(same_program(*fresh, *second));

  Seccomp other = notifying_profile("/run/a.sock");
  other.syscalls[0].errno_ret = EPERM;
  ASSERT_TRUE(compile_seccomp_cached(other, dir));
  EXPECT_EQ(t.files().size(), 2u);
}

// The cache is read only when the file is this user's and writable by no
// one else, and only for the exact profile it holds: a file another
// profile's program was planted in, or one others could have written,
// is compiled over, never loaded.
TEST(SeccompCache, ForeignOrPlantedFilesAreNotUsed) {
  TempDir t;
  const std::string dir = t.path + "/cache";
  Seccomp s = notifying_profile("");
  auto fresh = compile_seccomp(s);
  ASSERT_TRUE(fresh);
  ASSERT_TRUE(compile_seccomp_cached(s, dir));
  ASSERT_EQ(t.files().size(), 1u);
  const std::string file = dir + "/" + t.files()[0];

  // An allow-all program planted under this profile's name, with the key
  // of another profile.
  Seccomp allow = allow_by_default();
  TempDir t2;
  ASSERT_TRUE(compile_seccomp_cached(allow, t2.path + "/cache"));
  ASSERT_EQ(t2.files().size(), 1u);
  ASSERT_EQ(::rename((t2.path + "/cache/" + t2.files()[0]).c_str(), file.c_str()), 0);
  auto got = compile_seccomp_cached(s, dir);
  ASSERT_TRUE(got) << got.error().what();
  EXPECT_TRUE(same_program(*fresh, *got));

  // A program changed in place (its last instruction, the default
  // action, zeroed) under the right key: read as it is while the file is
  // private, which shows the cache is what answers; compiled over once the
  // file is group-writable.
  ASSERT_TRUE(compile_seccomp_cached(s, dir));  // rewritten by the miss above
  FILE* f = std::fopen(file.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  std::fseek(f, -8, SEEK_END);
  const char zeros[8] = {};
  std::fwrite(zeros, 1, sizeof zeros, f);
  std::fclose(f);
  got = compile_seccomp_cached(s, dir);
  ASSERT_TRUE(got);
  EXPECT_FALSE(same_program(*fresh, *got));
  ASSERT_EQ(::chmod(file.c_str(), 0620), 0);
  got = compile_seccomp_cached(s, dir);
  ASSERT_TRUE(got);
  EXPECT_TRUE(same_program(*fresh, *got));
}

// A program read from the cache works as the freshly compiled one.
TEST(SeccompCache, CachedProgramTakesEffect) {
  TempDir t;
  const std::string dir = t.path + "/cache";
  Seccomp s = allow_by_default();
  s.syscalls = {rule({"mkdir", "mkdirat"}, "SCMP_ACT_ERRNO", ENOTSUP)};
  ASSERT_TRUE(compile_seccomp_cached(s, dir));
  auto cached = compile_seccomp_cached(s, dir);
  ASSERT_TRUE(cached);
  const std::string target = t.path + "/made";
  int status = in_child([&] {
    auto fd = load_seccomp_program(Kernel::host(), *cached);
    if (!fd || *fd != -1) return 1;
    if (::mkdir(target.c_str(), 0700) == 0) return 2;
    return errno == ENOTSUP ? 0 : 3;
  });
  EXPECT_EQ(status, 0);
}

}  // namespace
}  // namespace berth::runtime
