// process_test.cpp — prepare_process, the steps the init and `exec` share
// before execve, as the kernel is asked for them (a recording FakeKernel).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fake_kernel.h"
#include "internal.h"

namespace berth::runtime {
namespace {

using Calls = std::vector<std::string>;

Process process_of(const std::string& members) {
  auto s = parse_spec(
      R"({"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"args":["/bin/sh"],"cwd":"/")" + members + "}}",
      "/b");
  EXPECT_TRUE(s) << s.error().what();
  return s && s->process ? *s->process : Process{};
}

// prepare_process with the kernel refusing (EPERM) the first call that
// starts with `call`.
Status refusing(FakeKernel& k, const std::string& call, const Process& p) {
  k.fail_on = call;
  k.fail_errno = EPERM;
  return prepare_process(k, p, nullptr, 0, -1);
}

// I/O priority, then the scheduler, both before any fd or identity change.
TEST(PrepareProcess, PrioritiesThenFdsThenIdentity) {
  Process p = process_of(R"(,"ioPriority":{"class":"IOPRIO_CLASS_BE","priority":4},)"
                         R"("scheduler":{"policy":"SCHED_FIFO","priority":10,"flags":["SCHED_FLAG_RESET_ON_FORK"]},)"
                         R"("user":{"uid":5,"gid":6})");
  FakeKernel k;
  auto st = prepare_process(k, p, nullptr, 2, -1);
  ASSERT_TRUE(st) << st.error().what();
  Calls want = {
      "ioprio_set(0x4004)",                                // IOPRIO_CLASS_BE << 13 | 4
      "sched_setattr(policy 1 prio 10 nice 0 flags 0x1)",  // SCHED_FIFO, RESET_ON_FORK
      "close_range(5, 0xffffffff, 0x4)",                   // 3 + 2 preserved fds
      "chdir(/)",
      "setgroups([])",
      "setresgid(6, 6, 6)",
      "setresuid(5, 5, 5)",
  };
  EXPECT_EQ(k.calls, want);  // no capabilities: no bounding set, KEEPCAPS or capset
}

// In a user namespace whose setgroups is denied, an empty list is the only
// one that could work: its EPERM is not an error; a real list's is.
TEST(PrepareProcess, SetgroupsDeniedOnlyMattersForAList) {
  FakeKernel k;
  EXPECT_TRUE(refusing(k, "setgroups([])", process_of("")));
  FakeKernel k2;
  auto st = refusing(k2, "setgroups([10])", process_of(R"(,"user":{"uid":0,"gid":0,"additionalGids":[10]})"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "process.user.additionalGids: setgroups: Operation not permitted");
}

// An ambient capability the kernel will not raise is a warning (as in runc).
TEST(PrepareProcess, RefusedAmbientCapabilityIsNotAnError) {
  FakeKernel k;
  auto st = refusing(
      k, "prctl(PR_CAP_AMBIENT, 2",
      process_of(R"(,"capabilities":{"bounding":["CAP_KILL"],"permitted":["CAP_KILL"],"ambient":["CAP_KILL"]})"));
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(k.only("capset"), Calls{"capset(eff 0 prm 0x20 inh 0)"});  // nothing added to inheritable
}

TEST(PrepareProcess, FailedSchedulerIsNamed) {
  FakeKernel k;
  auto st = refusing(k, "sched_setattr", process_of(R"(,"scheduler":{"policy":"SCHED_RR","priority":1})"));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "process.scheduler: sched_setattr SCHED_RR: Operation not permitted");
}

// Without no_new_privs the filter is loaded while the process still has
// CAP_SYS_ADMIN (before the identity change); with it, after
// PR_SET_NO_NEW_PRIVS, last. The fake's names of calls are what is asked.
TEST(PrepareProcess, SeccompBeforeIdentityUnlessNoNewPrivileges) {
  SeccompProgram prog;
  prog.code.resize(7);
  prog.flags = 0x2;  // SECCOMP_FILTER_FLAG_LOG
  FakeKernel k;
  auto st = prepare_process(k, process_of(R"(,"user":{"uid":5,"gid":6})"), &prog, 0, -1);
  ASSERT_TRUE(st) << st.error().what();
  Calls want = {"close_range(3, 0xffffffff, 0x4)",
                "chdir(/)",
                "seccomp_filter(0x2, 7 insns)",
                "setgroups([])",
                "setresgid(6, 6, 6)",
                "setresuid(5, 5, 5)"};
  EXPECT_EQ(k.calls, want);

  FakeKernel nnp;
  st = prepare_process(nnp, process_of(R"(,"user":{"uid":5,"gid":6},"noNewPrivileges":true)"), &prog, 0, -1);
  ASSERT_TRUE(st) << st.error().what();
  ASSERT_GE(nnp.calls.size(), 2u);
  EXPECT_EQ(nnp.calls[nnp.calls.size() - 2], "prctl(PR_SET_NO_NEW_PRIVS, 1, 0)");
  EXPECT_EQ(nnp.calls.back(), "seccomp_filter(0x2, 7 insns)");

  FakeKernel refused;
  st = refusing(refused, "seccomp_filter", process_of(""));
  EXPECT_TRUE(st);  // no program given: nothing to refuse
  refused.fail_on = "seccomp_filter";
  st = prepare_process(refused, process_of(""), &prog, 0, -1);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "load seccomp filter: Operation not permitted");
}

}  // namespace
}  // namespace berth::runtime
