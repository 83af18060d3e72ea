// sysinfo_test.cpp — the monitor's sysinfo answers: the struct a container
// sees for its cgroup's figures, /proc/PID/cgroup on hybrid and v2 hosts,
// limit files.
#include "sysinfo.h"

#include <gtest/gtest.h>

using namespace berth::supervisor;

namespace {

constexpr uint64_t kMiB = 1u << 20;

struct sysinfo host_info() {
  struct sysinfo h {};
  h.uptime = 100000;
  h.loads[0] = 11;
  h.loads[1] = 22;
  h.loads[2] = 33;
  h.totalram = 4096;  // 16 GiB in 4 MiB units
  h.freeram = 2048;
  h.sharedram = 7;
  h.bufferram = 9;
  h.totalswap = 256;  // 1 GiB
  h.freeswap = 200;
  h.procs = 900;
  h.mem_unit = 4 * kMiB;
  return h;
}

}  // namespace

TEST(Sysinfo, LimitsBecomeTheTotals) {
  CgroupFigures cg;
  cg.mem_limit = 64 * kMiB;
  cg.mem_usage = 10 * kMiB;
  cg.swap_limit = 32 * kMiB;
  cg.swap_usage = 2 * kMiB;
  cg.tasks = 5;
  struct sysinfo s = container_sysinfo(host_info(), cg, 42);
  EXPECT_EQ(s.mem_unit, 1u);
  EXPECT_EQ(s.totalram, 64 * kMiB);
  EXPECT_EQ(s.freeram, 54 * kMiB);
  EXPECT_EQ(s.sharedram, 0u);
  EXPECT_EQ(s.bufferram, 0u);
  EXPECT_EQ(s.totalswap, 32 * kMiB);
  EXPECT_EQ(s.freeswap, 30 * kMiB);
  EXPECT_EQ(s.procs, 5);
  EXPECT_EQ(s.uptime, 42);
  EXPECT_EQ(s.loads[0], 11u);
  EXPECT_EQ(s.loads[2], 33u);
}

TEST(Sysinfo, NoLimitKeepsTheHostsTotals) {
  CgroupFigures cg;
  cg.mem_usage = 100 * kMiB;
  struct sysinfo s = container_sysinfo(host_info(), cg, 7);
  EXPECT_EQ(s.totalram, 16384 * kMiB);
  EXPECT_EQ(s.freeram, 16284 * kMiB);
  // Swap usage and tasks unknown: the host's.
  EXPECT_EQ(s.totalswap, 1024 * kMiB);
  EXPECT_EQ(s.freeswap, 800 * kMiB);
  EXPECT_EQ(s.procs, 900);
}

TEST(Sysinfo, LimitAboveTheHostIsTheHost) {
  CgroupFigures cg;
  cg.mem_limit = 1ull << 50;
  cg.swap_limit = 1ull << 50;
  struct sysinfo s = container_sysinfo(host_info(), cg, 0);
  EXPECT_EQ(s.totalram, 16384 * kMiB);
  EXPECT_EQ(s.totalswap, 1024 * kMiB);
}

TEST(Sysinfo, UsageOverTheLimitLeavesNothingFree) {
  CgroupFigures cg;
  cg.mem_limit = 64 * kMiB;
  cg.mem_usage = 65 * kMiB;  // v1 usage can pass the limit briefly
  cg.swap_limit = 0;
  cg.swap_usage = 4096;
  struct sysinfo s = container_sysinfo(host_info(), cg, -5);  // a clock set back
  EXPECT_EQ(s.freeram, 0u);
  EXPECT_EQ(s.totalswap, 0u);
  EXPECT_EQ(s.freeswap, 0u);
  EXPECT_EQ(s.uptime, 0);
}

TEST(Sysinfo, ManyTasksSaturate) {
  CgroupFigures cg;
  cg.tasks = 100000;
  EXPECT_EQ(container_sysinfo(host_info(), cg, 0).procs, 0xffff);
}

TEST(Sysinfo, HybridHostUsesTheV1MemoryLine) {
  auto p = parse_proc_cgroup(
      "12:pids:/berth.containers/ct1\n"
      "4:memory:/berth.containers/ct1\n"
      "2:cpu,cpuacct:/berth.containers/ct1\n"
      "1:name=systemd:/berth.containers/ct1\n"
      "0::/\n");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->v2);
  EXPECT_EQ(p->memory, "/berth.containers/ct1");
  EXPECT_EQ(p->pids, "/berth.containers/ct1");
}

TEST(Sysinfo, PureV2UsesTheUnifiedLine) {
  auto p = parse_proc_cgroup("0::/berth.containers/ct1/init.scope\n");
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->v2);
  EXPECT_EQ(p->memory, "/berth.containers/ct1/init.scope");
  EXPECT_EQ(p->pids, p->memory);
}

TEST(Sysinfo, ControllersInAListAndNoTrailingNewline) {
  auto p = parse_proc_cgroup("3:cpuset:/a\n5:pids,memory:/x/y");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->v2);
  EXPECT_EQ(p->memory, "/x/y");
  EXPECT_EQ(p->pids, "/x/y");
}

TEST(Sysinfo, NoMemoryCgroup) {
  EXPECT_FALSE(parse_proc_cgroup(""));
  EXPECT_FALSE(parse_proc_cgroup("1:name=systemd:/\n2:cpu:/a\n"));
  EXPECT_FALSE(parse_proc_cgroup("garbage\n4:memory\n"));
}

TEST(Sysinfo, LimitFiles) {
  EXPECT_EQ(parse_limit("max\n"), kNoLimit);
  EXPECT_EQ(parse_limit("9223372036854771712\n"), kNoLimit);  // v1 without a limit
  EXPECT_EQ(parse_limit("18446744073709551615"), kNoLimit);
  EXPECT_EQ(parse_limit("67108864\n"), 67108864u);
  EXPECT_EQ(parse_limit("0"), 0u);
  EXPECT_FALSE(parse_limit(""));
  EXPECT_FALSE(parse_limit("-1"));
  EXPECT_FALSE(parse_limit("12k"));
  EXPECT_FALSE(parse_limit("123456789012345678901"));
}
