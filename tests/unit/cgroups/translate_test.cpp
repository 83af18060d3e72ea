// translate_test.cpp — OCI resources to cgroup v1/v2 writes, table-tested.
#include "berth/cgroups/translate.h"

#include <gtest/gtest.h>

#include <utility>

namespace berth::cgroups {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

Pairs files(const std::vector<Write>& writes) {
  Pairs out;
  for (const auto& w : writes) out.emplace_back(w.file, w.value);
  return out;
}

TEST(SharesToWeight, LinearCrunFormula) {
  EXPECT_EQ(shares_to_weight(2), 1u);
  EXPECT_EQ(shares_to_weight(1024), 39u);
  EXPECT_EQ(shares_to_weight(262144), 10000u);
  EXPECT_EQ(shares_to_weight(1), 1u);             // clamped up
  EXPECT_EQ(shares_to_weight(1u << 30), 10000u);  // clamped down
}

TEST(BlkioWeight, ConvertsToIoWeight) {
  EXPECT_EQ(blkio_weight_to_io_weight(10), 1u);
  EXPECT_EQ(blkio_weight_to_io_weight(500), 4950u);
  EXPECT_EQ(blkio_weight_to_io_weight(1000), 10000u);
}

struct SwapCase {
  std::optional<int64_t> limit, swap;
  std::optional<int64_t> want;
  bool error;
};

class SwapToV2 : public ::testing::TestWithParam<SwapCase> {};

TEST_P(SwapToV2, Converts) {
  const auto& c = GetParam();
  auto r = swap_to_v2(c.limit, c.swap);
  ASSERT_EQ(r.ok(), !c.error);
  if (r.ok()) {
    EXPECT_EQ(*r, c.want);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, SwapToV2,
    ::testing::Values(SwapCase{1000, 3000, 2000, false}, SwapCase{1000, 1000, 0, false},
                      SwapCase{1000, -1, -1, false}, SwapCase{-1, std::nullopt, -1, false},
                      SwapCase{1000, std::nullopt, std::nullopt, false},
                      SwapCase{std::nullopt, std::nullopt, std::nullopt, false},
                      SwapCase{1000, 500, std::nullopt, true},
                      SwapCase{std::nullopt, 500, std::nullopt, true}));

struct V2Case {
  const char* name;
  Resources r;
  Pairs want;
};

Resources with(void (*f)(Resources&)) {
  Resources r;
  f(r);
  return r;
}

class TranslateV2 : public ::testing::TestWithParam<V2Case> {};

TEST_P(TranslateV2, Writes) {
  auto w = translate_v2(GetParam().r);
  ASSERT_TRUE(w.ok()) << w.error().what();
  EXPECT_EQ(files(*w), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, TranslateV2,
    ::testing::Values(
        V2Case{"empty", Resources{}, {}},
        V2Case{"shares", with([](Resources& r) { r.cpu.shares = 1024; }), {{"cpu.weight", "39"}}},
        V2Case{"quota_period",
               with([](Resources& r) { r.cpu.quota = 50000, r.cpu.period = 200000; }),
               {{"cpu.max", "50000 200000"}}},
        V2Case{"unlimited_quota", with([](Resources& r) { r.cpu.quota = -1; }),
               {{"cpu.max", "max"}}},
        V2Case{"burst_after_max",
               with([](Resources& r) { r.cpu.quota = 1000, r.cpu.burst = 500; }),
               {{"cpu.max", "1000"}, {"cpu.max.burst", "500"}}},
        V2Case{"cpuset", with([](Resources& r) { r.cpu.cpus = "0-1", r.cpu.mems = "0"; }),
               {{"cpuset.cpus", "0-1"}, {"cpuset.mems", "0"}}},
        V2Case{"memory",
               with([](Resources& r) {
                 r.memory.limit = 1000, r.memory.reservation = 500, r.memory.swap = 3000;
                 r.memory.swappiness = 60, r.memory.kernel = 1;
               }),
               {{"memory.max", "1000"}, {"memory.low", "500"}, {"memory.swap.max", "2000"}}},
        V2Case{"memory_unlimited", with([](Resources& r) { r.memory.limit = -1; }),
               {{"memory.max", "max"}, {"memory.swap.max", "max"}}},
        V2Case{"pids", with([](Resources& r) { r.pids.limit = 0; }), {{"pids.max", "max"}}},
        V2Case{"pids_n", with([](Resources& r) { r.pids.limit = 64; }), {{"pids.max", "64"}}},
        V2Case{"io",
               with([](Resources& r) {
                 r.block_io.weight = 500;
                 r.block_io.read_bps = {{8, 0, 1048576}};
                 r.block_io.write_iops = {{8, 16, 0}};
               }),
               {{"io.bfq.weight", "500"}, {"io.max", "8:0 rbps=1048576"}, {"io.max", "8:16 wiops=max"}}},
        V2Case{"hugetlb", with([](Resources& r) { r.hugepage_limits = {{"2MB", 4096}}; }),
               {{"hugetlb.2MB.max", "4096"}}},
        V2Case{"unified_last",
               with([](Resources& r) {
                 r.memory.limit = 1000;
                 r.unified = {{"memory.max", "2000"}, {"memory.high", "900"}};
               }),
               {{"memory.max", "1000"}, {"memory.high", "900"}, {"memory.max", "2000"}}}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(TranslateV2, WeightFallsBackToIoWeight) {
  Resources r;
  r.block_io.weight = 1000;
  auto w = translate_v2(r);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->size(), 1u);
  EXPECT_EQ((*w)[0].fallback_file, "io.weight");
  EXPECT_EQ((*w)[0].fallback_value, "default 10000");
}

TEST(TranslateV2, Refuses) {
  Resources bad_swap;
  bad_swap.memory.limit = 1000;
  bad_swap.memory.swap = 10;
  EXPECT_FALSE(translate_v2(bad_swap).ok());
  Resources rt;
  rt.cpu.realtime_runtime = 1000;
  EXPECT_FALSE(translate_v2(rt).ok());
  Resources page;
  page.hugepage_limits = {{"2M", 1}};
  EXPECT_FALSE(translate_v2(page).ok());
  for (const char* key : {"../memory.max", "a/b", "", ".hidden"}) {
    Resources u;
    u.unified[key] = "1";
    auto w = translate_v2(u);
    ASSERT_FALSE(w.ok()) << key;
    EXPECT_NE(w.error().message().find("invalid cgroup file name"), std::string::npos);
  }
}

TEST(ControllersOf, ListsEachOnce) {
  std::vector<Write> w;
  for (const char* f : {"memory.max", "memory.low", "cgroup.freeze", "cpu.max", "hugetlb.2MB.max"})
    w.push_back(Write{"", f, "1", "", "", false});
  EXPECT_EQ(controllers_of(w), (std::vector<std::string>{"memory", "cpu", "hugetlb"}));
}

TEST(TranslateV1, CpuOrderAndControllers) {
  Resources r;
  r.cpu.shares = 512;
  r.cpu.quota = 20000;
  r.cpu.period = 100000;
  r.cpu.realtime_period = 1000000;
  r.cpu.realtime_runtime = 950000;
  r.cpu.cpus = "1";
  auto w = translate_v1(r);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(files(*w), (Pairs{{"cpu.shares", "512"},
                              {"cpu.cfs_period_us", "100000"},
                              {"cpu.cfs_quota_us", "20000"},
                              {"cpu.rt_period_us", "1000000"},
                              {"cpu.rt_runtime_us", "950000"},
                              {"cpuset.cpus", "1"}}));
  EXPECT_EQ((*w)[0].controller, "cpu");
  EXPECT_EQ((*w)[5].controller, "cpuset");
}

TEST(TranslateV1, MemswOrderFollowsDirection) {
  Resources r;
  r.memory.limit = 1000;
  r.memory.swap = 3000;
  // Current limit below the new memsw: raise memsw first.
  auto up = translate_v1(r, 500);
  ASSERT_TRUE(up.ok());
  EXPECT_EQ(files(*up), (Pairs{{"memory.memsw.limit_in_bytes", "3000"},
                               {"memory.limit_in_bytes", "1000"}}));
  // Current limit above the new memsw: lower the limit first.
  auto down = translate_v1(r, 5000);
  ASSERT_TRUE(down.ok());
  EXPECT_EQ(files(*down), (Pairs{{"memory.limit_in_bytes", "1000"},
                                 {"memory.memsw.limit_in_bytes", "3000"}}));
  r.memory.swap = 500;
  EXPECT_FALSE(translate_v1(r).ok());
}

TEST(TranslateV1, MemoryKnobs) {
  Resources r;
  r.memory.limit = -1;
  r.memory.reservation = 100;
  r.memory.swappiness = 0;
  r.memory.disable_oom_killer = true;
  r.memory.use_hierarchy = true;
  auto w = translate_v1(r);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(files(*w), (Pairs{{"memory.limit_in_bytes", "-1"},
                              {"memory.soft_limit_in_bytes", "100"},
                              {"memory.swappiness", "0"},
                              {"memory.oom_control", "1"},
                              {"memory.use_hierarchy", "1"}}));
  EXPECT_TRUE(w->back().optional);
  r.memory.swappiness = 101;
  EXPECT_FALSE(translate_v1(r).ok());
}

TEST(TranslateV1, BlkioPidsHugetlb) {
  Resources r;
  r.block_io.weight = 300;
  r.block_io.weight_device = {{8, 0, 400, std::nullopt}};
  r.block_io.write_bps = {{8, 0, 4096}};
  r.pids.limit = -1;
  r.hugepage_limits = {{"1GB", 1073741824}};
  auto w = translate_v1(r);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(files(*w), (Pairs{{"pids.max", "max"},
                              {"blkio.weight", "300"},
                              {"blkio.weight_device", "8:0 400"},
                              {"blkio.throttle.write_bps_device", "8:0 4096"},
                              {"hugetlb.1GB.limit_in_bytes", "1073741824"}}));
  EXPECT_EQ((*w)[1].fallback_file, "blkio.bfq.weight");
  EXPECT_EQ((*w)[2].fallback_file, "blkio.bfq.weight_device");
}

TEST(TranslateV1, RefusesUnified) {
  Resources r;
  r.unified["memory.high"] = "1";
  EXPECT_FALSE(translate_v1(r).ok());
}

TEST(TranslateV1, Devices) {
  std::vector<DeviceRule> rules = {
      {false, 'a', std::nullopt, std::nullopt, "rwm"},
      {true, 'c', 1, 3, "rwm"},
      {true, 'c', 136, std::nullopt, "rw"},
      {false, 'b', 8, 0, "w"},
  };
  EXPECT_EQ(files(translate_v1_devices(rules)), (Pairs{{"devices.deny", "a"},
                                                       {"devices.deny", "a *:* rwm"},
                                                       {"devices.allow", "c 1:3 rwm"},
                                                       {"devices.allow", "c 136:* rw"},
                                                       {"devices.deny", "b 8:0 w"}}));
  EXPECT_TRUE(translate_v1_devices({}).empty());
}

}  // namespace
}  // namespace berth::cgroups
