// sealed_exe_test.cpp — the sealed copy of the binary (CVE-2019-5736): the
// same bytes, executable, and no way to write it.
#include "berth/runtime/sealed_exe.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace berth::runtime {
namespace {

std::string head_of(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "open failed";
  std::string buf(4096, '\0');
  ssize_t n = ::read(fd.get(), buf.data(), buf.size());
  buf.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return buf;
}

// The ways a container would try to write the binary through the fd.
void expect_unwritable(const std::string& path) {
  UniqueFd w(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (w) {
    EXPECT_LT(::write(w.get(), "x", 1), 0) << path << " took a write";
  }
  UniqueFd t(::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC));
  if (t) ADD_FAILURE() << path << " was truncated";
  EXPECT_EQ(head_of(path), head_of("/proc/self/exe"));
}

TEST(SealedExe, TheTestBinaryIsNotSealed) { EXPECT_FALSE(exe_is_sealed()); }

TEST(SealedExe, RefusedWhereTheLibraryWouldCloneIntoAContainer) {
#ifndef BERTH_UNDEFEND_CVE_2019_5736
  auto st = require_sealed_exe();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("CVE-2019-5736"), std::string::npos) << st.error().what();
#endif
}

TEST(SealedExe, CopyIsTheBinaryAndCannotBeWritten) {
  auto fd = seal_self();
  ASSERT_TRUE(fd) << fd.error().what();
  std::string path = "/proc/self/fd/" + std::to_string(fd->get());
  EXPECT_EQ(::access(path.c_str(), X_OK), 0);
  expect_unwritable(path);
}

// Without CAP_SYS_ADMIN (no overlayfs), the copy is a sealed memfd.
TEST(SealedExe, WithoutOverlayfsTheCopyIsASealedMemfd) {
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2]{};
    if (::syscall(SYS_capget, &h, d) < 0) ::_exit(10);
    d[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
    if (::syscall(SYS_capset, &h, d) < 0) ::_exit(11);
    auto fd = seal_self();
    if (!fd) ::_exit(12);
    struct statfs sf;
    if (::fstatfs(fd->get(), &sf) < 0 || sf.f_type == OVERLAYFS_SUPER_MAGIC) ::_exit(13);
    int seals = ::fcntl(fd->get(), F_GET_SEALS);
    if (seals < 0 || !(seals & F_SEAL_WRITE) || !(seals & F_SEAL_SEAL)) ::_exit(14);
    std::string path = "/proc/self/fd/" + std::to_string(fd->get());
    expect_unwritable(path);
    ::_exit(::testing::Test::HasFailure() ? 15 : 0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace berth::runtime
