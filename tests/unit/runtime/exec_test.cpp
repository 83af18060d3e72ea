// exec_test.cpp — the forked child of `exec` up to Sync::ready (joins,
// chroot into the container's root, session, process steps) as the kernel
// is asked for them: a recording FakeKernel, the test playing the runtime.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "bundle_test.h"

namespace berth::runtime {
namespace {

class Exec : public BundleTest {
protected:
  void SetUp() override {
    BundleTest::SetUp();
    config("[]", R"({"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"ipc"}]})");
    o_.process = *spec_.process;
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    runtime_.reset(sv[0]);
    child_.reset(sv[1]);
    root_.reset(::open((bundle_ + "/rootfs").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    user_.reset(::open("/proc/self/ns/user", O_RDONLY | O_CLOEXEC));
    mnt_.reset(::open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC));
    ASSERT_TRUE(root_ && user_ && mnt_);
  }
  Status run(Sync first = Sync::go) {
    EXPECT_TRUE(sync_send(runtime_.get(), first));
    ExecChild c{&o_,         &spec_, &fake_,      nullptr, {{user_.get(), CLONE_NEWUSER}, {mnt_.get(), CLONE_NEWNS}},
                root_.get(), -1,     child_.get()};
    return exec_child_steps(c);
  }
  Sync runtime_hears() {
    char b[256];
    ssize_t n = ::recv(runtime_.get(), b, sizeof b, MSG_DONTWAIT);
    return n > 0 ? static_cast<Sync>(b[0]) : Sync::error;
  }

  ExecOptions o_;
  UniqueFd runtime_, child_, root_, user_, mnt_;
};

TEST_F(Exec, JoinsThenEntersTheRootThenPreparesTheProcess) {
  auto st = run();
  ASSERT_TRUE(st) << st.error().what();
  Calls want = {
      "prctl(PR_SET_DUMPABLE, 0, 0)",
      "setns(CLONE_NEWUSER)",
      "setns(CLONE_NEWNS)",
      "fchdir({b}/rootfs)",
      "chroot(.)",
      "chdir(/)",
      "setsid()",
      "close_range(3, 0xffffffff, 0x4)",
      "chdir(/)",
      "setgroups([])",
      "setresgid(0, 0, 0)",
      "setresuid(0, 0, 0)",
  };
  EXPECT_EQ(fake_.calls, want);
  EXPECT_EQ(runtime_hears(), Sync::ready);
}

// Already a session leader (EPERM) is fine; any other setsid failure is not.
TEST_F(Exec, SetsidEpermIsFine) {
  fake_.fail_on = "setsid";
  fake_.fail_errno = EPERM;
  EXPECT_TRUE(run());
}

class ExecFails : public Exec, public ::testing::WithParamInterface<StepFailure> {};

TEST_P(ExecFails, StopsThereWithoutReady) {
  fake_.fail_on = GetParam().fail_on;
  fake_.fail_errno = EIO;
  auto st = run();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), GetParam().error);
  EXPECT_TRUE(fake_.calls.back().starts_with(GetParam().fail_on)) << fake_.calls.back();
  EXPECT_NE(runtime_hears(), Sync::ready);
}

INSTANTIATE_TEST_SUITE_P(Steps, ExecFails,
                         ::testing::Values(StepFailure{"setns(CLONE_NEWNS)", "setns 131072: Input/output error"},
                                           StepFailure{"chroot", "enter container root: Input/output error"},
                                           StepFailure{"setsid", "setsid: Input/output error"},
                                           StepFailure{"setresuid",
                                                       "process.user.uid: setresuid 0: Input/output error"}));

TEST_F(Exec, AnythingButGoFirstIsRefused) {
  auto st = run(Sync::hooks_done);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "unexpected message from runtime");
  EXPECT_EQ(fake_.calls, Calls{"prctl(PR_SET_DUMPABLE, 0, 0)"});
}

}  // namespace
}  // namespace berth::runtime
