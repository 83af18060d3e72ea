// spec_test.cpp — config.json validation: every error names its field.
#include "berth/runtime/spec.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>

namespace berth::runtime {
namespace {

std::string with(const std::string& extra) {
  return R"({"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"args":["/bin/sh"],"cwd":"/"})" +
         (extra.empty() ? std::string() : "," + extra) + "}";
}

TEST(Spec, MinimalConfigResolvesRootAgainstBundle) {
  auto s = parse_spec(with(""), "/b");
  ASSERT_TRUE(s) << s.error().what();
  EXPECT_EQ(s->root_path, "/b/rootfs");
  EXPECT_EQ(s->process->args[0], "/bin/sh");
}

struct BadCase {
  const char* extra;
  const char* field;
};

class SpecBad : public ::testing::TestWithParam<BadCase> {};

TEST_P(SpecBad, NamesTheField) {
  auto s = parse_spec(with(GetParam().extra), "/b");
  ASSERT_FALSE(s) << GetParam().extra;
  EXPECT_NE(s.error().what().find(GetParam().field), std::string::npos) << s.error().what();
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SpecBad,
    ::testing::Values(
        BadCase{R"("linux":{"namespaces":[{"type":"bogus"}]})", "linux.namespaces[0].type"},
        BadCase{R"("linux":{"namespaces":[{"type":"pid"},{"type":"pid"}]})", "linux.namespaces[1].type"},
        BadCase{R"("hostname":5)", "hostname"},
        BadCase{R"("hostname":"x")", "hostname"},
        BadCase{R"("mounts":[{"destination":"/x","options":[1]}])", "mounts[0].options[0]"},
        BadCase{R"("mounts":[{"type":"tmpfs"}])", "mounts[0].destination"},
        BadCase{R"("linux":{"namespaces":[{"type":"user"}]})", "linux.uidMappings"},
        BadCase{R"("linux":{"uidMappings":[{"containerID":0,"hostID":1000,"size":1}]})", "linux.uidMappings"},
        BadCase{R"("linux":{"namespaces":[{"type":"user"}],"uidMappings":[{"containerID":0,"hostID":1,"size":0}],"gidMappings":[]})",
                "linux.uidMappings[0].size"},
        BadCase{R"("linux":{"devices":[{"type":"x","path":"/dev/x"}]})", "linux.devices[0].type"},
        BadCase{R"("linux":{"seccomp":{"defaultAction":"SCMP_ACT_NOTIFY"}})", "linux.seccomp.listenerPath"},
        BadCase{R"("linux":{"resources":{"memory":{"limit":"1g"}}})", "linux.resources.memory.limit"},
        BadCase{R"("hooks":{"prestart":[{"path":"relative"}]})", "hooks.prestart[0].path"},
        BadCase{R"("linux":{"rootfsPropagation":"sideways"})", "linux.rootfsPropagation"},
        BadCase{R"("linux":{"sysctl":{"../x":"1"}})", "linux.sysctl"}));

TEST(Spec, ProcessErrors) {
  auto s = parse_spec(R"({"ociVersion":"1.2.0","root":{"path":"r"},"process":{"args":[],"cwd":"/"}})", "/b");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().what().find("process.args"), std::string::npos);
  s = parse_spec(R"({"ociVersion":"1.2.0","root":{"path":"r"},"process":{"args":["x"],"cwd":"rel"}})", "/b");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().what().find("process.cwd"), std::string::npos);
  s = parse_spec(R"({"ociVersion":"1.2.0","root":{"path":"r"},"process":{"args":["x"],"rlimits":[{"type":"RLIMIT_FOO"}]}})", "/b");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().what().find("process.rlimits[0].type"), std::string::npos);
}

TEST(Spec, MissingRootAndBadJson) {
  EXPECT_FALSE(parse_spec(R"({"ociVersion":"1.2.0"})", "/b"));
  auto s = parse_spec("{", "/b");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().what().find("invalid JSON"), std::string::npos);
}

struct OptCase {
  std::vector<std::string> opts;
  unsigned long flags, propagation;
  std::string data;
};

TEST(MountOptions, Table) {
  const OptCase cases[] = {
      {{"ro", "nosuid", "nodev"}, MS_RDONLY | MS_NOSUID | MS_NODEV, 0, ""},
      {{"ro", "rw"}, 0, 0, ""},
      {{"rprivate", "mode=755", "size=64k"}, 0, MS_PRIVATE | MS_REC, "mode=755,size=64k"},
      {{"noexec", "strictatime", "rslave"}, MS_NOEXEC | MS_STRICTATIME, MS_SLAVE | MS_REC, ""},
  };
  for (const auto& c : cases) {
    Mount m;
    m.options = c.opts;
    ASSERT_TRUE(parse_mount_options(m, "mounts[0]"));
    EXPECT_EQ(m.flags, c.flags);
    EXPECT_EQ(m.propagation, c.propagation);
    EXPECT_EQ(m.data, c.data);
  }
  Mount b;
  b.options = {"rbind", "rro"};
  ASSERT_TRUE(parse_mount_options(b, "m"));
  EXPECT_TRUE(b.bind);
  EXPECT_TRUE(b.recursive);
  EXPECT_NE(b.attr_set, 0u);
}

}  // namespace
}  // namespace berth::runtime
