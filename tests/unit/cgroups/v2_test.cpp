// v2_test.cpp — the cgroup v2 manager against a temp-dir fake root.
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>

#include "berth/cgroups/manager.h"
#include "fake_root.h"

namespace berth::cgroups {
namespace {

using testing::FakeRoot;

const std::vector<std::string> leaf_files = {
    "cgroup.procs", "cgroup.freeze", "cgroup.kill",   "cpu.weight",    "cpu.max",
    "cpu.max.burst", "memory.max",   "memory.low",    "memory.swap.max", "pids.max",
    "io.weight",     "io.max",       "cpuset.cpus",   "cpuset.mems",   "hugetlb.2MB.max"};

class V2 : public ::testing::Test {
protected:
  void SetUp() override {
    fake.file("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    fake.file("cgroup.subtree_control", "memory\n");
    fake.file("berth/cgroup.subtree_control");
    auto m = make_manager({fake.root(), "", "abc", false});
    ASSERT_TRUE(m.ok()) << m.error().what();
    mgr = std::move(*m);
  }

  // What the kernel would populate in the new leaf.
  void populate() { fake.files("berth/abc", leaf_files); }

  FakeRoot fake;
  std::unique_ptr<Manager> mgr;
};

TEST_F(V2, DetectsUnified) {
  EXPECT_EQ(detect_layout(fake.root()).value(), Layout::unified);
  EXPECT_EQ(mgr->relative_path(), "/berth/abc");
  EXPECT_EQ(mgr->describe(), fake.root() + "/berth/abc");
}

TEST_F(V2, CreateEnablesControllersInAncestors) {
  ASSERT_TRUE(mgr->create().ok());
  EXPECT_TRUE(fake.exists("berth/abc"));
  // Only the missing ones at the root; all of them one level down.
  EXPECT_EQ(fake.read("cgroup.subtree_control"), "+cpuset +cpu +io +hugetlb +pids");
  EXPECT_EQ(fake.read("berth/cgroup.subtree_control"), "+cpuset +cpu +io +memory +hugetlb +pids");
  EXPECT_FALSE(fake.exists("berth/abc/cgroup.subtree_control"));
  EXPECT_TRUE(mgr->create().ok());  // idempotent
}

TEST(V2Create, FailureRemovesWhatItMade) {
  FakeRoot fake;
  fake.dir("cgroup.controllers");  // unreadable: delegation fails after mkdir
  auto m = make_manager({fake.root(), "/made/leaf", "abc", false});
  ASSERT_TRUE(m.ok());
  Status s = (*m)->create();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message().rfind("create cgroup " + fake.root() + "/made/leaf: ", 0), 0u)
      << s.error().message();
  EXPECT_FALSE(fake.exists("made"));
}

TEST_F(V2, EnterAndSet) {
  ASSERT_TRUE(mgr->create().ok());
  populate();
  ASSERT_TRUE(mgr->enter(4242).ok());
  EXPECT_EQ(fake.read("berth/abc/cgroup.procs"), "4242");

  Resources r;
  r.cpu.shares = 1024;
  r.cpu.quota = 50000;
  r.cpu.period = 100000;
  r.cpu.burst = 1000;
  r.cpu.cpus = "0";
  r.memory.limit = 1 << 20;
  r.memory.swap = 2 << 20;
  r.memory.reservation = 1 << 19;
  r.pids.limit = 100;
  r.block_io.weight = 1000;  // no io.bfq.weight in the fake: io.weight
  r.block_io.write_bps = {{8, 0, 4096}};
  r.hugepage_limits = {{"2MB", 2097152}};
  ASSERT_TRUE(mgr->set(r).ok());
  EXPECT_EQ(fake.read("berth/abc/cpu.weight"), "39");
  EXPECT_EQ(fake.read("berth/abc/cpu.max"), "50000 100000");
  EXPECT_EQ(fake.read("berth/abc/cpu.max.burst"), "1000");
  EXPECT_EQ(fake.read("berth/abc/cpuset.cpus"), "0");
  EXPECT_EQ(fake.read("berth/abc/memory.max"), "1048576");
  EXPECT_EQ(fake.read("berth/abc/memory.swap.max"), "1048576");
  EXPECT_EQ(fake.read("berth/abc/memory.low"), "524288");
  EXPECT_EQ(fake.read("berth/abc/pids.max"), "100");
  EXPECT_EQ(fake.read("berth/abc/io.weight"), "default 10000");
  EXPECT_EQ(fake.read("berth/abc/io.max"), "8:0 wbps=4096");
  EXPECT_EQ(fake.read("berth/abc/hugetlb.2MB.max"), "2097152");
}

TEST_F(V2, SetPrefersBfqWeight) {
  ASSERT_TRUE(mgr->create().ok());
  populate();
  fake.file("berth/abc/io.bfq.weight");
  Resources r;
  r.block_io.weight = 200;
  ASSERT_TRUE(mgr->set(r).ok());
  EXPECT_EQ(fake.read("berth/abc/io.bfq.weight"), "200");
  EXPECT_EQ(fake.read("berth/abc/io.weight"), "");
}

TEST_F(V2, SetErrors) {
  ASSERT_TRUE(mgr->create().ok());
  // No interface files: the controller is missing; the error names the file.
  Resources r;
  r.memory.limit = 100;
  Status s = mgr->set(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), ENOENT);
  EXPECT_NE(s.error().message().find("memory.max"), std::string::npos);

  populate();
  Resources bad;
  bad.memory.limit = 100;
  bad.memory.swap = 50;
  s = mgr->set(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message().rfind("linux.resources: ", 0), 0u) << s.error().message();
}

TEST_F(V2, CheckBeforeUpdate) {
  ASSERT_TRUE(mgr->create().ok());
  populate();
  fake.file("berth/abc/memory.current", "5000\n");
  Resources r;
  r.memory.limit = 4096;
  r.memory.check_before_update = true;
  Status s = mgr->set(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code(), EBUSY);
  r.memory.limit = 8192;
  EXPECT_TRUE(mgr->set(r).ok());
}

TEST_F(V2, Freeze) {
  ASSERT_TRUE(mgr->create().ok());
  populate();
  fake.file("berth/abc/cgroup.events", "populated 1\nfrozen 1\n");
  ASSERT_TRUE(mgr->freeze(true).ok());
  EXPECT_EQ(fake.read("berth/abc/cgroup.freeze"), "1");
  EXPECT_TRUE(mgr->frozen().value());
  fake.file("berth/abc/cgroup.events", "populated 1\nfrozen 0\n");
  ASSERT_TRUE(mgr->freeze(false).ok());
  EXPECT_EQ(fake.read("berth/abc/cgroup.freeze"), "0");
  EXPECT_FALSE(mgr->frozen().value());
}

TEST_F(V2, PidsAndKill) {
  ASSERT_TRUE(mgr->create().ok());
  populate();
  fake.file("berth/abc/cgroup.procs", "10\n11\n");
  fake.file("berth/abc/sub/cgroup.procs", "12\n");
  auto pids = mgr->pids();
  ASSERT_TRUE(pids.ok());
  std::sort(pids->begin(), pids->end());
  EXPECT_EQ(*pids, (std::vector<pid_t>{10, 11, 12}));
  ASSERT_TRUE(mgr->kill_all(SIGKILL).ok());
  EXPECT_EQ(fake.read("berth/abc/cgroup.kill"), "1");
}

TEST_F(V2, Stats) {
  ASSERT_TRUE(mgr->create().ok());
  populate();
  fake.file("berth/abc/cpu.stat",
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\n"
            "nr_throttled 2\nthrottled_usec 30\n");
  fake.file("berth/abc/memory.current", "4096\n");
  fake.file("berth/abc/memory.max", "max\n");
  fake.file("berth/abc/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n");
  fake.file("berth/abc/memory.stat", "anon 100\nfile 200\n");
  fake.file("berth/abc/pids.current", "5\n");
  fake.file("berth/abc/pids.max", "max\n");
  fake.file("berth/abc/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
  auto st = mgr->stats();
  ASSERT_TRUE(st.ok()) << st.error().what();
  EXPECT_EQ(st->cpu.usage_total_ns, 1500000u);
  EXPECT_EQ(st->cpu.usage_user_ns, 1000000u);
  EXPECT_EQ(st->cpu.usage_kernel_ns, 500000u);
  EXPECT_EQ(st->cpu.throttled_periods, 2u);
  EXPECT_EQ(st->cpu.throttled_time_ns, 30000u);
  EXPECT_EQ(st->memory.usage, 4096u);
  EXPECT_EQ(st->memory.limit, UINT64_MAX);
  EXPECT_EQ(st->memory.failcnt, 3u);
  EXPECT_EQ(st->memory.oom_kills, 1u);
  ASSERT_EQ(st->memory.raw.size(), 2u);
  EXPECT_EQ(st->memory.raw[1], (std::pair<std::string, uint64_t>{"file", 200}));
  EXPECT_EQ(st->pids.current, 5u);
  EXPECT_EQ(st->pids.limit, 0u);
  ASSERT_EQ(st->io_bytes.size(), 2u);
  EXPECT_EQ(st->io_bytes[1].op, "Write");
  EXPECT_EQ(st->io_bytes[1].value, 20u);
  ASSERT_EQ(st->io_ops.size(), 2u);
  EXPECT_EQ(st->io_ops[0].value, 1u);
  EXPECT_EQ(mgr->oom_kills().value(), 1u);
}

TEST_F(V2, Destroy) {
  ASSERT_TRUE(mgr->create().ok());
  populate();
  fake.dir("berth/abc/sub/deeper");
  fake.strip_files("berth/abc");
  ASSERT_TRUE(mgr->destroy().ok());
  EXPECT_FALSE(fake.exists("berth/abc"));
  EXPECT_TRUE(fake.exists("berth"));
  EXPECT_TRUE(mgr->destroy().ok());  // already gone
  EXPECT_FALSE(mgr->stats().ok());
}

TEST(MakeManager, RefusesBadPaths) {
  FakeRoot fake;
  fake.file("cgroup.controllers", "memory\n");
  auto m = make_manager({fake.root(), "/a/../b", "x", false});
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().message().rfind("linux.cgroupsPath: ", 0), 0u);
  // Making the systemd manager does not reach systemd yet (see systemd_test.cpp).
  auto sd = make_manager({fake.root(), "machine.slice:libpod:x", "x", true});
  ASSERT_TRUE(sd.ok()) << sd.error().what();
  EXPECT_EQ((*sd)->relative_path(), "/machine.slice/libpod-x.scope");
  auto bad_sd = make_manager({fake.root(), "nonsense", "x", true});
  ASSERT_FALSE(bad_sd.ok());
  EXPECT_EQ(bad_sd.error().message().rfind("linux.cgroupsPath: ", 0), 0u);
  EXPECT_FALSE(make_manager({fake.path("missing"), "", "x", false}).ok());
}

}  // namespace
}  // namespace berth::cgroups
