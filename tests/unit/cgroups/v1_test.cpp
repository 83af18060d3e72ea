// v1_test.cpp — the cgroup v1 manager (legacy and hybrid) against a fake root.
#include <gtest/gtest.h>

#include "berth/cgroups/manager.h"
#include "fake_root.h"

namespace berth::cgroups {
namespace {

using testing::FakeRoot;

const std::vector<std::string> hierarchies = {"cpu",     "cpuacct", "cpuset", "memory",
                                              "devices", "freezer", "blkio",  "pids"};

class V1 : public ::testing::Test {
protected:
  void make(bool hybrid) {
    for (const auto& h : hierarchies) fake.file(h + "/cgroup.procs");
    fake.file("cpuset/cpuset.cpus", "0-1\n");
    fake.file("cpuset/cpuset.mems", "0\n");
    // The kernel gives a new cpuset empty cpus/mems; the fake pre-makes them.
    fake.files("cpuset/berth", {"cpuset.cpus", "cpuset.mems"});
    fake.files("cpuset/berth/abc", {"cpuset.cpus", "cpuset.mems"});
    if (hybrid) fake.file("unified/cgroup.controllers", "hugetlb\n");
    auto m = make_manager({fake.root(), "", "abc", false});
    ASSERT_TRUE(m.ok()) << m.error().what();
    mgr = std::move(*m);
  }

  void populate() {
    for (const auto& h : hierarchies) fake.file(h + "/berth/abc/cgroup.procs");
    fake.files("cpu/berth/abc", {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us"});
    fake.file("memory/berth/abc/memory.limit_in_bytes", "9223372036854771712\n");
    fake.files("memory/berth/abc", {"memory.memsw.limit_in_bytes", "memory.swappiness",
                                    "memory.oom_control", "memory.soft_limit_in_bytes"});
    fake.files("pids/berth/abc", {"pids.max"});
    fake.files("devices/berth/abc", {"devices.allow", "devices.deny"});
    fake.files("blkio/berth/abc", {"blkio.bfq.weight", "blkio.throttle.read_bps_device"});
    fake.file("freezer/berth/abc/freezer.state", "THAWED\n");
  }

  FakeRoot fake;
  std::unique_ptr<Manager> mgr;
};

TEST_F(V1, DetectsLayouts) {
  make(false);
  EXPECT_EQ(detect_layout(fake.root()).value(), Layout::legacy);
  fake.file("unified/cgroup.controllers");
  EXPECT_EQ(detect_layout(fake.root()).value(), Layout::hybrid);
}

TEST_F(V1, CreateInEveryHierarchyAndFillCpuset) {
  make(false);
  ASSERT_TRUE(mgr->create().ok());
  for (const auto& h : hierarchies) EXPECT_TRUE(fake.exists(h + "/berth/abc")) << h;
  EXPECT_EQ(fake.read("cpuset/berth/cpuset.cpus"), "0-1");
  EXPECT_EQ(fake.read("cpuset/berth/abc/cpuset.cpus"), "0-1");
  EXPECT_EQ(fake.read("cpuset/berth/abc/cpuset.mems"), "0");
  EXPECT_FALSE(fake.exists("unified"));
  EXPECT_NE(mgr->describe().find(fake.root() + "/memory/berth/abc"), std::string::npos);
}

TEST_F(V1, HybridCreatesTheCgroup2TwinAndEntersBoth) {
  make(true);
  ASSERT_TRUE(mgr->create().ok());
  EXPECT_TRUE(fake.exists("unified/berth/abc"));
  EXPECT_EQ(fake.read("unified/cgroup.subtree_control"), "");  // no file in the fake root
  populate();
  fake.file("unified/berth/abc/cgroup.procs");
  ASSERT_TRUE(mgr->enter(77).ok());
  EXPECT_EQ(fake.read("memory/berth/abc/cgroup.procs"), "77");
  EXPECT_EQ(fake.read("freezer/berth/abc/cgroup.procs"), "77");
  EXPECT_EQ(fake.read("unified/berth/abc/cgroup.procs"), "77");
}

TEST_F(V1, Set) {
  make(false);
  ASSERT_TRUE(mgr->create().ok());
  populate();
  Resources r;
  r.cpu.shares = 512;
  r.cpu.quota = 20000;
  r.cpu.period = 100000;
  r.memory.limit = 1 << 20;
  r.memory.swap = 2 << 20;
  r.memory.swappiness = 0;
  r.pids.limit = 50;
  r.block_io.weight = 300;
  r.block_io.read_bps = {{8, 0, 1024}};
  r.devices = {{false, 'a', std::nullopt, std::nullopt, "rwm"}, {true, 'c', 1, 3, "rwm"}};
  ASSERT_TRUE(mgr->set(r).ok());
  EXPECT_EQ(fake.read("cpu/berth/abc/cpu.shares"), "512");
  EXPECT_EQ(fake.read("cpu/berth/abc/cpu.cfs_quota_us"), "20000");
  EXPECT_EQ(fake.read("cpu/berth/abc/cpu.cfs_period_us"), "100000");
  EXPECT_EQ(fake.read("memory/berth/abc/memory.limit_in_bytes"), "1048576");
  EXPECT_EQ(fake.read("memory/berth/abc/memory.memsw.limit_in_bytes"), "2097152");
  EXPECT_EQ(fake.read("memory/berth/abc/memory.swappiness"), "0");
  EXPECT_EQ(fake.read("pids/berth/abc/pids.max"), "50");
  EXPECT_EQ(fake.read("blkio/berth/abc/blkio.bfq.weight"), "300");
  EXPECT_EQ(fake.read("blkio/berth/abc/blkio.throttle.read_bps_device"), "8:0 1024");
  EXPECT_EQ(fake.read("devices/berth/abc/devices.deny"), "a *:* rwm");
  EXPECT_EQ(fake.read("devices/berth/abc/devices.allow"), "c 1:3 rwm");
}

TEST_F(V1, SetRefusesWhatItCannotApply) {
  make(false);
  ASSERT_TRUE(mgr->create().ok());
  populate();
  Resources huge;
  huge.hugepage_limits = {{"2MB", 1}};
  Status s = mgr->set(huge);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("hugetlb controller is not mounted"), std::string::npos);
  Resources unified;
  unified.unified["memory.high"] = "1";
  EXPECT_FALSE(mgr->set(unified).ok());
}

TEST_F(V1, HybridRoutesHugetlbToCgroup2) {
  make(true);
  ASSERT_TRUE(mgr->create().ok());
  populate();
  fake.file("unified/berth/abc/hugetlb.2MB.max");
  Resources r;
  r.hugepage_limits = {{"2MB", 4194304}};
  r.pids.limit = 9;
  ASSERT_TRUE(mgr->set(r).ok());
  EXPECT_EQ(fake.read("unified/berth/abc/hugetlb.2MB.max"), "4194304");
  EXPECT_EQ(fake.read("pids/berth/abc/pids.max"), "9");
}

TEST_F(V1, FreezeViaFreezerState) {
  make(false);
  ASSERT_TRUE(mgr->create().ok());
  populate();
  ASSERT_TRUE(mgr->freeze(true).ok());
  EXPECT_EQ(fake.read("freezer/berth/abc/freezer.state"), "FROZEN");
  EXPECT_TRUE(mgr->frozen().value());
  ASSERT_TRUE(mgr->freeze(false).ok());
  EXPECT_FALSE(mgr->frozen().value());
}

TEST_F(V1, PidsStatsAndOom) {
  make(false);
  ASSERT_TRUE(mgr->create().ok());
  populate();
  fake.file("pids/berth/abc/cgroup.procs", "5\n6\n");
  EXPECT_EQ(mgr->pids().value(), (std::vector<pid_t>{5, 6}));
  fake.file("cpuacct/berth/abc/cpuacct.usage", "3000\n");
  fake.file("cpuacct/berth/abc/cpuacct.usage_user", "2000\n");
  fake.file("cpuacct/berth/abc/cpuacct.usage_sys", "1000\n");
  fake.file("cpu/berth/abc/cpu.stat", "nr_periods 4\nnr_throttled 1\nthrottled_time 99\n");
  fake.file("memory/berth/abc/memory.usage_in_bytes", "8192\n");
  fake.file("memory/berth/abc/memory.max_usage_in_bytes", "9000\n");
  fake.file("memory/berth/abc/memory.failcnt", "2\n");
  fake.file("memory/berth/abc/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 4\n");
  fake.file("pids/berth/abc/pids.current", "2\n");
  fake.file("pids/berth/abc/pids.max", "50\n");
  fake.file("blkio/berth/abc/blkio.throttle.io_service_bytes",
            "8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n");
  auto st = mgr->stats();
  ASSERT_TRUE(st.ok()) << st.error().what();
  EXPECT_EQ(st->cpu.usage_total_ns, 3000u);
  EXPECT_EQ(st->cpu.usage_user_ns, 2000u);
  EXPECT_EQ(st->cpu.throttled_time_ns, 99u);
  EXPECT_EQ(st->memory.usage, 8192u);
  EXPECT_EQ(st->memory.max_usage, 9000u);
  EXPECT_EQ(st->memory.limit, 9223372036854771712u);
  EXPECT_EQ(st->memory.failcnt, 2u);
  EXPECT_EQ(st->memory.oom_kills, 4u);
  EXPECT_EQ(st->pids.limit, 50u);
  ASSERT_EQ(st->io_bytes.size(), 3u);  // Read, Write and the per-device Total
  EXPECT_EQ(st->io_bytes[0].op, "Read");
  EXPECT_EQ(st->io_bytes[0].value, 4096u);
  EXPECT_EQ(mgr->oom_kills().value(), 4u);
}

TEST_F(V1, DestroyEverywhere) {
  make(true);
  ASSERT_TRUE(mgr->create().ok());
  populate();
  for (const auto& h : hierarchies) fake.strip_files(h + "/berth/abc");
  ASSERT_TRUE(mgr->destroy().ok());
  for (const auto& h : hierarchies) EXPECT_FALSE(fake.exists(h + "/berth/abc")) << h;
  EXPECT_FALSE(fake.exists("unified/berth/abc"));
  EXPECT_TRUE(mgr->destroy().ok());
}

}  // namespace
}  // namespace berth::cgroups
