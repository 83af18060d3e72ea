// systemd_properties_test.cpp — OCI resources to systemd unit properties, table-tested.
#include "berth/cgroups/systemd_properties.h"

#include <gtest/gtest.h>

#include <ostream>

namespace berth::cgroups {

// Readable failures: "MemoryMax=t:67108864".
void PrintTo(const UnitProperty& p, std::ostream* os) {
  *os << p.name << "=";
  if (auto* b = std::get_if<bool>(&p.value)) *os << "b:" << (*b ? "true" : "false");
  if (auto* n = std::get_if<uint64_t>(&p.value)) *os << "t:" << *n;
  if (auto* s = std::get_if<std::string>(&p.value)) *os << "s:" << *s;
  if (auto* a = std::get_if<std::vector<uint32_t>>(&p.value))
    for (auto v : *a) *os << "u:" << v << " ";
  if (auto* a = std::get_if<std::vector<uint8_t>>(&p.value))
    for (auto v : *a) *os << "y:" << int(v) << " ";
}

namespace {

using Props = std::vector<UnitProperty>;
using Bytes = std::vector<uint8_t>;
constexpr uint64_t inf = unit_infinity;

UnitProperty u64(const char* name, uint64_t v) { return {name, v}; }

Resources with(void (*f)(Resources&)) {
  Resources r;
  f(r);
  return r;
}

TEST(CpuQuotaPerSec, RoundsUpToWholePercents) {
  EXPECT_EQ(cpu_quota_per_sec(50000, 100000), 500000u);
  EXPECT_EQ(cpu_quota_per_sec(200000, 100000), 2000000u);
  EXPECT_EQ(cpu_quota_per_sec(12345, 100000), 130000u);  // 12.345% -> 13%
  EXPECT_EQ(cpu_quota_per_sec(1, 1000000), 10000u);      // never below 1%
  EXPECT_EQ(cpu_quota_per_sec(25000, 50000), 500000u);
  EXPECT_EQ(cpu_quota_per_sec(1000, 0), 10000u);  // default period
  EXPECT_EQ(cpu_quota_per_sec(0, 100000), inf);
  EXPECT_EQ(cpu_quota_per_sec(-1, 100000), inf);
  EXPECT_EQ(cpu_quota_per_sec(INT64_MAX, 100000), inf);
}

struct MaskCase {
  const char* list;
  Bytes want;
  bool error;
};

class CpusetToBitmask : public ::testing::TestWithParam<MaskCase> {};

TEST_P(CpusetToBitmask, Converts) {
  auto r = cpuset_to_bitmask(GetParam().list);
  ASSERT_EQ(r.ok(), !GetParam().error) << GetParam().list;
  if (r.ok()) {
    EXPECT_EQ(*r, GetParam().want) << GetParam().list;
  } else {
    EXPECT_NE(r.error().message().find(GetParam().list), std::string::npos);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Table, CpusetToBitmask,
    ::testing::Values(MaskCase{"", {}, false}, MaskCase{"0", {0x01}, false},
                      MaskCase{"7", {0x80}, false}, MaskCase{"8", {0x00, 0x01}, false},
                      MaskCase{"0-3,8", {0x0f, 0x01}, false}, MaskCase{" 1,3\n", {0x0a}, false},
                      MaskCase{"2-2,0-1", {0x07}, false},
                      MaskCase{"0-15", {0xff, 0xff}, false}, MaskCase{"a", {}, true},
                      MaskCase{"3-1", {}, true}, MaskCase{"1,", {}, true},
                      MaskCase{"1--2", {}, true}, MaskCase{"-1", {}, true},
                      MaskCase{"1,,2", {}, true}, MaskCase{"65536", {}, true}));

TEST(UnitBaseProperties, ScopeIsBornWithItsPid) {
  SystemdUnit scope{"libpod-abc.scope", "machine.slice", "/machine.slice/libpod-abc.scope"};
  EXPECT_EQ(unit_base_properties(scope, "berth container abc", 4242),
            (Props{{"Description", std::string("berth container abc")},
                   {"Slice", std::string("machine.slice")},
                   {"Delegate", true},
                   {"PIDs", std::vector<uint32_t>{4242}},
                   {"DefaultDependencies", false}}));
}

TEST(UnitBaseProperties, SliceHasNoPidsOrParent) {
  SystemdUnit slice{"sub-x.slice", "", "/sub.slice/sub-x.slice"};
  EXPECT_EQ(unit_base_properties(slice, "d", 1),
            (Props{{"Description", std::string("d")}, {"DefaultDependencies", false}}));
}

struct PropsCase {
  const char* name;
  Resources r;
  bool unified;
  Props want;
};

class UnitResourceProperties : public ::testing::TestWithParam<PropsCase> {};

TEST_P(UnitResourceProperties, Converts) {
  auto p = unit_resource_properties(GetParam().r, GetParam().unified, 50000);
  ASSERT_TRUE(p.ok()) << p.error().what();
  EXPECT_EQ(*p, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, UnitResourceProperties,
    ::testing::Values(
        PropsCase{"empty", Resources{}, true, {}},
        PropsCase{"shares_v2", with([](Resources& r) { r.cpu.shares = 1024; }), true,
                  {u64("CPUWeight", 39)}},  // shares_to_weight, as cpu.weight gets
        PropsCase{"shares_v1", with([](Resources& r) { r.cpu.shares = 1024; }), false,
                  {u64("CPUShares", 1024)}},
        PropsCase{"quota_period",
                  with([](Resources& r) { r.cpu.quota = 50000, r.cpu.period = 100000; }), true,
                  {u64("CPUQuotaPeriodUSec", 100000), u64("CPUQuotaPerSecUSec", 500000)}},
        PropsCase{"quota_against_current_period", with([](Resources& r) { r.cpu.quota = 10000; }),
                  true, {u64("CPUQuotaPerSecUSec", 200000)}},
        PropsCase{"unlimited_quota", with([](Resources& r) { r.cpu.quota = -1; }), true,
                  {u64("CPUQuotaPerSecUSec", inf)}},
        PropsCase{"period_alone", with([](Resources& r) { r.cpu.period = 20000; }), false,
                  {u64("CPUQuotaPeriodUSec", 20000), u64("CPUQuotaPerSecUSec", inf)}},
        PropsCase{"cpuset", with([](Resources& r) { r.cpu.cpus = "0-3,8", r.cpu.mems = "0"; }),
                  true,
                  {{"AllowedCPUs", Bytes{0x0f, 0x01}}, {"AllowedMemoryNodes", Bytes{0x01}}}},
        PropsCase{"cpuset_not_on_v1", with([](Resources& r) { r.cpu.cpus = "0"; }), false, {}},
        PropsCase{"memory",
                  with([](Resources& r) {
                    r.memory.limit = 67108864, r.memory.swap = 134217728;
                    r.memory.reservation = 33554432, r.memory.swappiness = 10;
                  }),
                  true,
                  {u64("MemoryMax", 67108864), u64("MemoryLow", 33554432),
                   u64("MemorySwapMax", 67108864)}},
        PropsCase{"memory_unlimited", with([](Resources& r) { r.memory.limit = -1; }), true,
                  {u64("MemoryMax", inf), u64("MemorySwapMax", inf)}},
        PropsCase{"memory_zero_is_unset", with([](Resources& r) { r.memory.limit = 0; }), true, {}},
        PropsCase{"memory_v1",
                  with([](Resources& r) { r.memory.limit = 1000, r.memory.reservation = 500; }),
                  false, {u64("MemoryLimit", 1000)}},
        PropsCase{"pids", with([](Resources& r) { r.pids.limit = 32; }), true,
                  {u64("TasksMax", 32)}},
        PropsCase{"pids_unlimited", with([](Resources& r) { r.pids.limit = -1; }), false,
                  {u64("TasksMax", inf)}},
        PropsCase{"pids_zero", with([](Resources& r) { r.pids.limit = 0; }), true,
                  {u64("TasksMax", inf)}},
        PropsCase{"io_weight", with([](Resources& r) { r.block_io.weight = 500; }), true,
                  {u64("IOWeight", 4950)}},
        PropsCase{"blkio_weight", with([](Resources& r) { r.block_io.weight = 500; }), false,
                  {u64("BlockIOWeight", 500)}},
        PropsCase{"not_modelled",
                  with([](Resources& r) {
                    r.cpu.burst = 1000, r.cpu.idle = 1;
                    r.block_io.read_bps = {{8, 0, 1}};
                    r.hugepage_limits = {{"2MB", 4096}};
                  }),
                  true, {}},
        PropsCase{"unified_overrides",
                  with([](Resources& r) {
                    r.memory.limit = 1000, r.pids.limit = 5;
                    r.unified = {{"memory.max", "max"}, {"memory.high", "800"},
                                 {"memory.min", "100"}, {"pids.max", "7"},
                                 {"cpu.weight", "300"}, {"io.weight", "default 200"},
                                 {"cpuset.cpus", "1"}, {"memory.oom.group", "1"}};
                  }),
                  true,
                  {u64("MemoryMax", inf), u64("TasksMax", 7), u64("CPUWeight", 300),
                   {"AllowedCPUs", Bytes{0x02}}, u64("IOWeight", 200), u64("MemoryHigh", 800),
                   u64("MemoryMin", 100)}},
        PropsCase{"unified_cpu_max",
                  with([](Resources& r) { r.unified = {{"cpu.max", "max 40000"}}; }), true,
                  {u64("CPUQuotaPeriodUSec", 40000), u64("CPUQuotaPerSecUSec", inf)}},
        PropsCase{"unified_cpu_max_quota",
                  with([](Resources& r) { r.unified = {{"cpu.max", "25000"}}; }), true,
                  {u64("CPUQuotaPerSecUSec", 500000)}},
        PropsCase{"unified_device_io_weight",
                  with([](Resources& r) { r.unified = {{"io.weight", "8:0 100"}}; }), true, {}},
        PropsCase{"unified_ignored_on_v1",
                  with([](Resources& r) { r.unified = {{"memory.high", "800"}}; }), false, {}}),
    [](const auto& info) { return std::string(info.param.name); });

struct BadCase {
  const char* name;
  Resources r;
  const char* field;  // the error names it
};

class UnitResourcePropertiesRefuses : public ::testing::TestWithParam<BadCase> {};

TEST_P(UnitResourcePropertiesRefuses, NamesTheField) {
  auto p = unit_resource_properties(GetParam().r, true);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().message().rfind(GetParam().field, 0), 0u) << p.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Table, UnitResourcePropertiesRefuses,
    ::testing::Values(
        BadCase{"swap_without_limit", with([](Resources& r) { r.memory.swap = 100; }),
                "memory.swap"},
        BadCase{"bad_cpus", with([](Resources& r) { r.cpu.cpus = "0-"; }), "cpu.cpus"},
        BadCase{"bad_mems", with([](Resources& r) { r.cpu.mems = "x"; }), "cpu.mems"},
        BadCase{"bad_limit",
                with([](Resources& r) { r.unified = {{"memory.high", "lots"}}; }),
                "unified.memory.high"},
        BadCase{"bad_cpu_max",
                with([](Resources& r) { r.unified = {{"cpu.max", "1 2 3"}}; }),
                "unified.cpu.max"},
        BadCase{"zero_period",
                with([](Resources& r) { r.unified = {{"cpu.max", "max 0"}}; }),
                "unified.cpu.max"},
        BadCase{"bad_weight",
                with([](Resources& r) { r.unified = {{"cpu.weight", ""}}; }),
                "unified.cpu.weight"},
        BadCase{"bad_cpuset",
                with([](Resources& r) { r.unified = {{"cpuset.mems", "1-0"}}; }),
                "unified.cpuset.mems"}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace berth::cgroups
