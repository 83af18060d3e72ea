// default_spec_test.cpp — `berth-runtime spec` output: safe capabilities, rootless user namespace.
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "security.h"

namespace berth::runtime {
namespace {

bool has_namespace(const json::Value& spec, std::string_view type) {
  for (const auto& ns : spec.find("linux")->find("namespaces")->as_array())
    if (ns.find("type")->as_string() == type) return true;
  return false;
}

const json::Value* find_mount(const json::Value& spec, std::string_view destination) {
  for (const auto& m : spec.find("mounts")->as_array())
    if (m.find("destination")->as_string() == destination) return &m;
  return nullptr;
}

TEST(DefaultSpec, NoInheritableOrAmbientCapabilities) {
  for (bool rootless : {false, true}) {
    const json::Value spec = default_spec(rootless);
    const json::Value* caps = spec.find("process")->find("capabilities");
    ASSERT_NE(caps, nullptr);
    EXPECT_EQ(caps->find("inheritable"), nullptr);
    EXPECT_EQ(caps->find("ambient"), nullptr);
    EXPECT_EQ(caps->find("bounding")->as_array().size(), 3u);
  }
}

TEST(DefaultSpec, Defaults) {
  const json::Value spec = default_spec(false);
  EXPECT_EQ(spec.find("ociVersion")->as_string(), "1.2.0");
  EXPECT_TRUE(spec.find("root")->find("readonly")->as_bool());
  EXPECT_TRUE(spec.find("process")->find("noNewPrivileges")->as_bool());
  EXPECT_TRUE(has_namespace(spec, "network"));
  EXPECT_FALSE(has_namespace(spec, "user"));
  EXPECT_NE(spec.find("linux")->find("resources"), nullptr);
  EXPECT_EQ(spec.find("linux")->find("maskedPaths")->as_array().size(), 10u);
  ASSERT_NE(find_mount(spec, "/sys"), nullptr);
  EXPECT_EQ(find_mount(spec, "/sys")->find("type")->as_string(), "sysfs");
}

TEST(DefaultSpec, Rootless) {
  const json::Value spec = default_spec(true);
  EXPECT_TRUE(has_namespace(spec, "user"));
  EXPECT_FALSE(has_namespace(spec, "network"));
  const json::Value* uid_map = spec.find("linux")->find("uidMappings");
  ASSERT_NE(uid_map, nullptr);
  ASSERT_EQ(uid_map->as_array().size(), 1u);
  EXPECT_EQ(uid_map->as_array()[0].find("hostID")->as_uint(), ::geteuid());
  EXPECT_EQ(uid_map->as_array()[0].find("containerID")->as_uint(), 0u);
  EXPECT_EQ(spec.find("linux")->find("gidMappings")->as_array()[0].find("hostID")->as_uint(), ::getegid());
  EXPECT_EQ(spec.find("linux")->find("resources"), nullptr);

  const json::Value* sys = find_mount(spec, "/sys");
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->find("type")->as_string(), "none");
  EXPECT_EQ(sys->find("source")->as_string(), "/sys");
  // devpts loses gid=5: the group is not mapped.
  for (const auto& o : find_mount(spec, "/dev/pts")->find("options")->as_array())
    EXPECT_FALSE(o.as_string().starts_with("gid=")) << o.as_string();
}

}  // namespace
}  // namespace berth::runtime
