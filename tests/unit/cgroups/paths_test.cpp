// paths_test.cpp — cgroupsPath rules, systemd slice paths, mountinfo parsing.
#include "berth/cgroups/paths.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

namespace berth::cgroups {
namespace {

TEST(CgroupRelativePath, Normalises) {
  EXPECT_EQ(cgroup_relative_path("", "abc").value(), "/berth/abc");
  EXPECT_EQ(cgroup_relative_path("/a/b", "x").value(), "/a/b");
  EXPECT_EQ(cgroup_relative_path("a/b", "x").value(), "/a/b");
  EXPECT_EQ(cgroup_relative_path("//a///b/", "x").value(), "/a/b");
}

TEST(CgroupRelativePath, Refuses) {
  for (const char* bad : {"/a/../b", "..", "a/./b", "/"}) {
    auto r = cgroup_relative_path(bad, "x");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().message().rfind("linux.cgroupsPath: ", 0), 0u) << r.error().message();
  }
  EXPECT_FALSE(cgroup_relative_path("", "a/b").ok());
  EXPECT_FALSE(cgroup_relative_path("", "..").ok());
}

struct SystemdCase {
  const char* spec;
  const char* want;  // nullptr: error
};

class SystemdPath : public ::testing::TestWithParam<SystemdCase> {};

TEST_P(SystemdPath, Expands) {
  auto r = systemd_path(GetParam().spec);
  if (!GetParam().want) {
    EXPECT_FALSE(r.ok()) << GetParam().spec << " -> " << (r.ok() ? *r : "");
    return;
  }
  ASSERT_TRUE(r.ok()) << r.error().what();
  EXPECT_EQ(*r, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Table, SystemdPath,
    ::testing::Values(SystemdCase{"machine.slice:libpod:abc", "/machine.slice/libpod-abc.scope"},
                      SystemdCase{"system.slice:docker:1234", "/system.slice/docker-1234.scope"},
                      SystemdCase{":berth:x", "/system.slice/berth-x.scope"},
                      SystemdCase{"user-1000.slice::x", "/user.slice/user-1000.slice/x.scope"},
                      SystemdCase{"a-b-c.slice:p:n", "/a.slice/a-b.slice/a-b-c.slice/p-n.scope"},
                      SystemdCase{"-.slice:p:n", "/p-n.scope"},
                      SystemdCase{"machine.slice:p:sub-x.slice", "/sub.slice/sub-x.slice"},
                      SystemdCase{"machine.slice:libpod", nullptr},
                      SystemdCase{"a:b:c:d", nullptr},
                      SystemdCase{"machine:p:n", nullptr},
                      SystemdCase{"a--b.slice:p:n", nullptr},
                      SystemdCase{"-a.slice:p:n", nullptr},
                      SystemdCase{"a/b.slice:p:n", nullptr},
                      SystemdCase{"machine.slice:p:", nullptr},
                      SystemdCase{"machine.slice:p:a/b", nullptr}));

TEST(SystemdUnit, ScopeOrSlice) {
  EXPECT_EQ(systemd_unit("machine.slice:libpod:abc").value(),
            (SystemdUnit{"libpod-abc.scope", "machine.slice", "/machine.slice/libpod-abc.scope"}));
  EXPECT_EQ(systemd_unit(":berth:x").value(),
            (SystemdUnit{"berth-x.scope", "system.slice", "/system.slice/berth-x.scope"}));
  auto slice = systemd_unit("machine.slice:p:sub-x.slice").value();
  EXPECT_TRUE(slice.is_slice());
  EXPECT_EQ(slice, (SystemdUnit{"sub-x.slice", "", "/sub.slice/sub-x.slice"}));
  EXPECT_FALSE(systemd_unit("machine.slice:p:-.slice").ok());  // the root slice
}

TEST(ParseCgroupMounts, HybridHost) {
  const char* text =
      "30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
      "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct\n"
      "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "36 30 0:33 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset,clone_children\n"
      "39 30 0:36 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
      "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate\n";
  CgroupMounts m = parse_cgroup_mounts(text);
  EXPECT_EQ(m.v2, "/sys/fs/cgroup/unified");
  EXPECT_EQ(m.v1.at("cpu"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(m.v1.at("cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(m.v1.at("memory"), "/sys/fs/cgroup/memory");
  EXPECT_EQ(m.v1.at("cpuset"), "/sys/fs/cgroup/cpuset");
  EXPECT_EQ(m.v1.at("name=systemd"), "/sys/fs/cgroup/systemd");
  EXPECT_EQ(m.v1.count("rw"), 0u);
  EXPECT_EQ(m.v1.count("clone_children"), 0u);
  EXPECT_EQ(m.v1.count("xattr"), 0u);
  EXPECT_EQ(m.v1.size(), 5u);
}

TEST(CgroupMountsByName, RefusesWhatIsNotWhereItsNameSays) {
  // A controller on a v1 hierarchy with no cgroup mount of its name: only
  // the mount table can say where it is.
  EXPECT_FALSE(cgroup_mounts_by_name("/nonexistent", "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
                                                     "memory\t5\t1\t1\n"));
  // On cgroup2 (hierarchy 0) or disabled: not looked for.
  auto m = cgroup_mounts_by_name("/nonexistent", "memory\t0\t1\t1\ncpu\t3\t1\t0\n");
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->v1.empty());
  EXPECT_EQ(m->v2, "");
  EXPECT_FALSE(cgroup_mounts_by_name("/nonexistent", "memory 5\n"));  // malformed
}

// On the machine the tests run on: by name, when it answers, agrees with
// the mount table for every controller /proc/cgroups puts on v1.
TEST(CgroupMountsByName, AgreesWithTheMountTable) {
  std::ifstream pc("/proc/cgroups"), mi("/proc/self/mountinfo");
  std::string cgroups_text((std::istreambuf_iterator<char>(pc)), {}),
      mountinfo((std::istreambuf_iterator<char>(mi)), {});
  auto by_name = cgroup_mounts_by_name("/sys/fs/cgroup", cgroups_text);
  if (!by_name) GTEST_SKIP() << "this machine's cgroups are not laid out by name";
  CgroupMounts table = parse_cgroup_mounts(mountinfo);
  for (const auto& [ctrl, at] : by_name->v1) EXPECT_EQ(at, table.v1[ctrl]) << ctrl;
  for (const auto& [ctrl, at] : table.v1) {
    if (ctrl.starts_with("name=")) continue;
    EXPECT_EQ(by_name->v1.count(ctrl), 1u) << ctrl << " at " << at;
  }
  if (!table.v2.empty()) {
    EXPECT_EQ(by_name->v2, table.v2);
  }
}

}  // namespace
}  // namespace berth::cgroups
