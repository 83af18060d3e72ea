// init_test.cpp — the container init's create-time steps (init.cpp) and the
// process's last steps before execve (process.cpp, caps.cpp) as the kernel
// is asked for them: a recording FakeKernel, the runtime's side of the sync
// socket played by the test.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "bundle_test.h"

namespace berth::runtime {
namespace {

constexpr const char* kUserNs = R"("uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],)"
                                R"("gidMappings":[{"containerID":0,"hostID":100000,"size":65536}])";

// A user who keeps two capabilities, one of them ambient, with an rlimit,
// supplementary group, umask and no_new_privs.
constexpr const char* kProcess = R"({"args":["/bin/sh"],"cwd":"/",
  "user":{"uid":1000,"gid":1000,"additionalGids":[10],"umask":18},
  "rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":512}],
  "capabilities":{"bounding":["CAP_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_KILL"],
                  "permitted":["CAP_KILL","CAP_NET_BIND_SERVICE"],"inheritable":["CAP_NET_BIND_SERVICE"],
                  "ambient":["CAP_NET_BIND_SERVICE"]},
  "noNewPrivileges":true})";

class Init : public BundleTest {
protected:
  void SetUp() override {
    BundleTest::SetUp();
    int sv[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    runtime_.reset(sv[0]);
    init_.reset(sv[1]);
    opts_.id = "c1";
  }
  // What the runtime would send, queued before the init runs: the init
  // reads them in order.
  void runtime_says(Sync s, const std::string& payload = "") { ASSERT_TRUE(sync_send(runtime_.get(), s, payload)); }
  Status run() {
    ctx_.sync_fd = init_.get();
    return init_create_steps(ctx_);
  }
  // The messages the init sent to the runtime.
  std::vector<Sync> init_said() {
    std::vector<Sync> out;
    for (;;) {
      char b[256];
      ssize_t n = ::recv(runtime_.get(), b, sizeof b, MSG_DONTWAIT);
      if (n <= 0) return out;
      out.push_back(static_cast<Sync>(b[0]));
    }
  }
  // The calls without the bounding-set drops (one per capability the host
  // knows of, checked on their own).
  Calls without_drops() const {
    Calls out;
    for (const auto& c : fake_.calls)
      if (!c.starts_with("prctl(PR_CAPBSET_DROP")) out.push_back(c);
    return out;
  }

  UniqueFd runtime_, init_;
};

// Every step in its place: identity in the user namespace before joining
// namespaces, cgroup and time namespaces unshared late, names, keyring,
// rootfs, the runtime's hooks, pivot_root, personality, then the process:
// rlimits, fds, bounding set, cwd as root, identity, capabilities,
// no_new_privs.
TEST_F(Init, CreateStepsInOrder) {
  config("[]",
         std::string(R"({"namespaces":[{"type":"user"},{"type":"pid"},{"type":"mount"},{"type":"uts"},)"
                     R"({"type":"ipc"},{"type":"cgroup"},{"type":"time"}],"personality":{"domain":"LINUX32"},)") +
             kUserNs + "}",
         R"(,"hostname":"box","domainname":"example.org")", kProcess);
  UniqueFd net(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
  ASSERT_TRUE(net);
  ctx_.join_ns = {{net.get(), CLONE_NEWNET}};
  runtime_says(Sync::go, R"({"id":"c1"})");
  runtime_says(Sync::hooks_done);
  auto st = run();
  ASSERT_TRUE(st) << st.error().what();
  Calls want = {
      "prctl(PR_SET_DUMPABLE, 0, 0)",
      "setsid()",
      "setresgid(0, 0, 0)",
      "setresuid(0, 0, 0)",
      "setns(CLONE_NEWNET)",
      "unshare(CLONE_NEWCGROUP)",
      "unshare(CLONE_NEWTIME)",
      "setns(CLONE_NEWTIME)",
      "sethostname(box)",
      "setdomainname(example.org)",
      "keyctl_join(_ses.c1)",
      "mount(NULL, /, NULL, MS_REC|MS_SLAVE, NULL)",
      "mount({b}/rootfs, {b}/rootfs, NULL, MS_BIND|MS_REC, NULL)",
      "chdir({b}/rootfs)",
      "pivot_root(., .)",
      "fchdir(/)",
      "mount(NULL, ., NULL, MS_REC|MS_SLAVE, NULL)",
      "umount2(., MNT_DETACH)",
      "chdir(/)",
      "personality(0x8)",  // PER_LINUX32
      "setrlimit(7, 512, 1024)",
      "close_range(3, 0xffffffff, 0x4)",  // CLOSE_RANGE_CLOEXEC
      "chdir(/)",
      "setgroups([10])",
      "prctl(PR_SET_KEEPCAPS, 1, 0)",
      "setresgid(1000, 1000, 1000)",
      "setresuid(1000, 1000, 1000)",
      "prctl(PR_SET_KEEPCAPS, 0, 0)",
      "umask(0022)",
      "capset(eff 0x20 prm 0x420 inh 0x400)",  // CAP_KILL 5, CAP_NET_BIND_SERVICE 10
      "prctl(PR_CAP_AMBIENT, 4, 0)",           // PR_CAP_AMBIENT_CLEAR_ALL
      "prctl(PR_CAP_AMBIENT, 2, 10)",          // PR_CAP_AMBIENT_RAISE
      "prctl(PR_SET_NO_NEW_PRIVS, 1, 0)",
  };
  EXPECT_EQ(without_drops(), want);
  EXPECT_EQ(init_said(), std::vector<Sync>{Sync::hooks});
  EXPECT_EQ(ctx_.state_json, R"({"id":"c1"})");

  // Every capability the kernel knows but the two kept leaves the bounding
  // set, after the fds are marked and before the cwd is entered.
  auto drops = fake_.only("prctl(PR_CAPBSET_DROP");
  EXPECT_EQ(static_cast<int>(drops.size()), last_capability() + 1 - 2);
  EXPECT_EQ(std::count(drops.begin(), drops.end(), "prctl(PR_CAPBSET_DROP, 5, 0)"), 0);
  EXPECT_EQ(std::count(drops.begin(), drops.end(), "prctl(PR_CAPBSET_DROP, 10, 0)"), 0);
  auto at = std::find(fake_.calls.begin(), fake_.calls.end(), "prctl(PR_CAPBSET_DROP, 0, 0)");
  ASSERT_NE(at, fake_.calls.end());
  EXPECT_EQ(*(at - 1), "close_range(3, 0xffffffff, 0x4)");
}

// Time offsets are written by the runtime between the unshare and the
// init's entering the namespace: the init asks, and waits for the ack.
TEST_F(Init, TimeOffsetsAreWrittenBeforeTheInitEntersTheNamespace) {
  config("[]", R"({"namespaces":[{"type":"pid"},{"type":"time"}],"timeOffsets":{"monotonic":{"secs":10}}})");
  runtime_says(Sync::go);
  runtime_says(Sync::ack);
  runtime_says(Sync::hooks_done);
  auto st = run();
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(init_said(), (std::vector<Sync>{Sync::time_offsets, Sync::hooks}));
  auto unshare = std::find(fake_.calls.begin(), fake_.calls.end(), "unshare(CLONE_NEWTIME)");
  ASSERT_NE(unshare, fake_.calls.end());
  EXPECT_EQ(*(unshare + 1), "setns(CLONE_NEWTIME)");
}

// Without a mount namespace nothing is mounted and there is no pivot_root;
// --no-new-keyring joins no keyring.
TEST_F(Init, NoMountNamespaceNoKeyring) {
  config("[]", R"({"namespaces":[{"type":"pid"}]})");
  opts_.no_new_keyring = true;
  runtime_says(Sync::go);
  runtime_says(Sync::hooks_done);
  ASSERT_TRUE(run());
  EXPECT_TRUE(fake_.only("mount").empty());
  EXPECT_TRUE(fake_.only("pivot_root").empty());
  EXPECT_TRUE(fake_.only("keyctl").empty());
}

// A keyring the kernel refuses is not an error (as with runc).
TEST_F(Init, RefusedKeyringIsNotAnError) {
  config("[]", R"({"namespaces":[{"type":"pid"}]})");
  fake_.fail_on = "keyctl_join";
  fake_.fail_errno = EPERM;
  runtime_says(Sync::go);
  runtime_says(Sync::hooks_done);
  EXPECT_TRUE(run());
}

class InitFails : public Init, public ::testing::WithParamInterface<StepFailure> {};

// Each step's failure stops the sequence at that call and says which step.
TEST_P(InitFails, NamesTheStep) {
  config("[]",
         std::string(R"({"namespaces":[{"type":"user"},{"type":"pid"},{"type":"mount"},{"type":"uts"},)"
                     R"({"type":"cgroup"}],"personality":{"domain":"LINUX"},)") +
             kUserNs + "}",
         R"(,"hostname":"box")", kProcess);
  runtime_says(Sync::go);
  runtime_says(Sync::hooks_done);
  fake_.fail_on = GetParam().fail_on;
  fake_.fail_errno = EPERM;
  auto st = run();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), GetParam().error);
  EXPECT_TRUE(fake_.calls.back().starts_with(GetParam().fail_on)) << fake_.calls.back();
}

INSTANTIATE_TEST_SUITE_P(
    Steps, InitFails,
    ::testing::Values(StepFailure{"prctl(PR_SET_DUMPABLE", "prctl PR_SET_DUMPABLE: Operation not permitted"},
                      StepFailure{"setresuid(0", "setresuid 0 in user namespace: Operation not permitted"},
                      StepFailure{"unshare(CLONE_NEWCGROUP", "unshare cgroup namespace: Operation not permitted"},
                      StepFailure{"sethostname", "hostname: sethostname box: Operation not permitted"},
                      StepFailure{"personality", "linux.personality: personality LINUX: Operation not permitted"},
                      StepFailure{"setrlimit", "process.rlimits: setrlimit RLIMIT_NOFILE: Operation not permitted"},
                      StepFailure{"prctl(PR_CAPBSET_DROP",
                                  "drop CAP_CHOWN from the bounding set: Operation not permitted"},
                      StepFailure{"setgroups", "process.user.additionalGids: setgroups: Operation not permitted"},
                      StepFailure{"setresuid(1000", "process.user.uid: setresuid 1000: Operation not permitted"},
                      StepFailure{"capset", "capset: Operation not permitted"},
                      StepFailure{"prctl(PR_SET_NO_NEW_PRIVS", "prctl PR_SET_NO_NEW_PRIVS: Operation not permitted"}));

// The bundle's path is only known at run time: the fixture's {b}.
TEST_F(Init, FailureMessagesNameTheBundle) {
  config("[]", R"({"namespaces":[{"type":"mount"}]})");
  runtime_says(Sync::go);
  runtime_says(Sync::hooks_done);
  fake_.fail_on = "pivot_root";
  auto st = run();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "pivot_root " + bundle_ + "/rootfs: Input/output error");
}

// A hook that failed in the runtime stops the init before pivot_root,
// with the runtime's message.
TEST_F(Init, RuntimeErrorAtHooksStopsBeforePivot) {
  config("[]", R"({"namespaces":[{"type":"mount"}]})");
  runtime_says(Sync::go);
  runtime_says(Sync::error, "prestart hook 0: exit status 1");
  auto st = run();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "prestart hook 0: exit status 1");
  EXPECT_TRUE(fake_.only("pivot_root").empty());
}

TEST_F(Init, AnythingButGoFirstIsRefused) {
  config("[]", R"({"namespaces":[{"type":"pid"}]})");
  runtime_says(Sync::hooks_done);
  auto st = run();
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "unexpected message from runtime");
  EXPECT_EQ(fake_.calls, Calls{"prctl(PR_SET_DUMPABLE, 0, 0)"});
}

// A cwd root may not enter (root squashed, a user namespace) is entered
// again as the user, after the identity change.
TEST_F(Init, CwdRefusedToRootIsEnteredAsTheUser) {
  config("[]", R"({"namespaces":[{"type":"pid"}]})", "",
         R"({"args":["/bin/sh"],"cwd":"/home/u","user":{"uid":1000,"gid":1000}})");
  runtime_says(Sync::go);
  runtime_says(Sync::hooks_done);
  fake_.fail_on = "chdir(/home/u)";
  fake_.fail_errno = EACCES;
  ASSERT_TRUE(run());
  auto tail = Calls(fake_.calls.end() - 5, fake_.calls.end());
  EXPECT_EQ(tail, (Calls{"chdir(/home/u)", "setgroups([])", "setresgid(1000, 1000, 1000)",
                         "setresuid(1000, 1000, 1000)", "chdir(/home/u)"}));
}

}  // namespace
}  // namespace berth::runtime
