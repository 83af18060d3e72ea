// resources_test.cpp — parse_resources and merge_resources.
#include "berth/cgroups/resources.h"

#include <gtest/gtest.h>

namespace berth::cgroups {
namespace {

Result<Resources> parse(const char* text) {
  auto v = json::parse(text);
  EXPECT_TRUE(v.ok()) << v.error().what();
  return parse_resources(*v, "linux.resources");
}

TEST(ParseResources, FullObject) {
  auto r = parse(R"({
    "memory": {"limit": 536870912, "reservation": 268435456, "swap": 1073741824,
               "kernel": -1, "kernelTCP": 0, "swappiness": 10, "disableOOMKiller": true,
               "useHierarchy": true, "checkBeforeUpdate": false},
    "cpu": {"shares": 1024, "quota": 50000, "burst": 10000, "period": 100000,
            "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "0-1", "mems": "0",
            "idle": 0},
    "pids": {"limit": 32},
    "blockIO": {"weight": 500, "leafWeight": 300,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 200}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
                "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2097152}],
                "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 200}]},
    "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200}],
    "devices": [{"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"},
                {"allow": true, "type": "b", "major": -1, "minor": 5}],
    "unified": {"memory.high": "400000000"},
    "rdma": {"mlx5_1": {"hcaHandles": 3}},
    "network": {"classID": 1048577}
  })");
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(r->memory.limit, 536870912);
  EXPECT_EQ(r->memory.swap, 1073741824);
  EXPECT_EQ(r->memory.kernel, -1);
  EXPECT_EQ(r->memory.swappiness, 10u);
  EXPECT_EQ(r->memory.disable_oom_killer, true);
  EXPECT_EQ(r->memory.check_before_update, false);
  EXPECT_EQ(r->cpu.shares, 1024u);
  EXPECT_EQ(r->cpu.quota, 50000);
  EXPECT_EQ(r->cpu.burst, 10000u);
  EXPECT_EQ(r->cpu.realtime_runtime, 950000);
  EXPECT_EQ(r->cpu.cpus, "0-1");
  EXPECT_EQ(r->cpu.idle, 0);
  EXPECT_EQ(r->pids.limit, 32);
  EXPECT_EQ(r->block_io.weight, 500);
  ASSERT_EQ(r->block_io.weight_device.size(), 1u);
  EXPECT_EQ(r->block_io.weight_device[0].leaf_weight, 200);
  ASSERT_EQ(r->block_io.write_bps.size(), 1u);
  EXPECT_EQ(r->block_io.write_bps[0].minor, 16);
  EXPECT_EQ(r->block_io.write_iops[0].rate, 200u);
  ASSERT_EQ(r->hugepage_limits.size(), 1u);
  EXPECT_EQ(r->hugepage_limits[0].page_size, "2MB");
  ASSERT_EQ(r->devices.size(), 3u);
  EXPECT_FALSE(r->devices[0].allow);
  EXPECT_EQ(r->devices[0].type, 'a');
  EXPECT_EQ(r->devices[0].major, std::nullopt);
  EXPECT_EQ(r->devices[1].type, 'c');
  EXPECT_EQ(r->devices[1].minor, 3);
  EXPECT_EQ(r->devices[1].access, "rw");
  EXPECT_EQ(r->devices[2].major, std::nullopt);  // -1 is a wildcard
  EXPECT_EQ(r->devices[2].access, "rwm");
  EXPECT_EQ(r->unified.at("memory.high"), "400000000");
}

TEST(ParseResources, EmptyObject) {
  auto r = parse("{}");
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->memory.limit);
  EXPECT_TRUE(r->devices.empty());
}

struct BadCase {
  const char* json;
  const char* message;
};

class ParseResourcesErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseResourcesErrors, NamesTheField) {
  auto r = parse(GetParam().json);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message(), GetParam().message);
}

INSTANTIATE_TEST_SUITE_P(
    Table, ParseResourcesErrors,
    ::testing::Values(
        BadCase{"[]", "linux.resources: expected object, got array"},
        BadCase{R"({"memory": {"limit": "1G"}})",
                "linux.resources.memory.limit: expected integer, got string"},
        BadCase{R"({"memory": 5})", "linux.resources.memory: expected object, got number"},
        BadCase{R"({"memory": {"swappiness": -1}})",
                "linux.resources.memory.swappiness: expected unsigned integer, got negative number"},
        BadCase{R"({"memory": {"disableOOMKiller": 1}})",
                "linux.resources.memory.disableOOMKiller: expected boolean, got number"},
        BadCase{R"({"cpu": {"quota": 1.5}})",
                "linux.resources.cpu.quota: expected integer, got non-integral number"},
        BadCase{R"({"cpu": {"cpus": 3}})", "linux.resources.cpu.cpus: expected string, got number"},
        BadCase{R"({"blockIO": {"weight": 70000}})",
                "linux.resources.blockIO.weight: expected integer in 0..65535, got 70000"},
        BadCase{R"({"blockIO": {"throttleReadBpsDevice": [{"major": 8, "rate": 1}]}})",
                "linux.resources.blockIO.throttleReadBpsDevice[0]: major and minor are required"},
        BadCase{R"({"hugepageLimits": [{"limit": 1}]})",
                "linux.resources.hugepageLimits[0].pageSize: required"},
        BadCase{R"({"devices": [{"allow": true, "type": "x"}]})",
                "linux.resources.devices[0].type: expected \"a\", \"b\" or \"c\", got \"x\""},
        BadCase{R"({"devices": [{"type": "c"}]})", "linux.resources.devices[0].allow: required"},
        BadCase{R"({"devices": [{"allow": true, "access": "rwx"}]})",
                "linux.resources.devices[0].access: expected letters from \"rwm\", got \"rwx\""},
        BadCase{R"({"unified": {"memory.high": 5}})",
                "linux.resources.unified[\"memory.high\"]: expected string, got number"}));

TEST(MergeResources, OverlaysPresentFields) {
  auto base = parse(R"({"memory": {"limit": 100, "swap": 200}, "cpu": {"shares": 512, "cpus": "0"},
                        "pids": {"limit": 10}, "unified": {"a.b": "1", "c.d": "2"}})");
  auto update = parse(R"({"memory": {"limit": 150}, "cpu": {"quota": 1000},
                          "unified": {"c.d": "3"}})");
  ASSERT_TRUE(base.ok() && update.ok());
  merge_resources(*base, *update);
  EXPECT_EQ(base->memory.limit, 150);
  EXPECT_EQ(base->memory.swap, 200);
  EXPECT_EQ(base->cpu.shares, 512u);
  EXPECT_EQ(base->cpu.quota, 1000);
  EXPECT_EQ(base->cpu.cpus, "0");
  EXPECT_EQ(base->pids.limit, 10);
  EXPECT_EQ(base->unified.at("a.b"), "1");
  EXPECT_EQ(base->unified.at("c.d"), "3");
}

}  // namespace
}  // namespace berth::cgroups
