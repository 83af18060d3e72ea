// features_test.cpp — the features document has the runtime-spec keys.
#include <gtest/gtest.h>

#include <string>

#include "security.h"

namespace berth::runtime {
namespace {

bool array_has(const json::Value* a, std::string_view s) {
  if (!a || !a->is_array()) return false;
  for (const auto& v : a->as_array())
    if (v.is_string() && v.as_string() == s) return true;
  return false;
}

TEST(Features, TopLevelKeys) {
  const json::Value f = features_json();
  for (const char* key : {"ociVersionMin", "ociVersionMax", "hooks", "mountOptions", "linux", "annotations",
                          "potentiallyUnsafeConfigAnnotations"})
    EXPECT_NE(f.find(key), nullptr) << key;
  EXPECT_EQ(f.find("ociVersionMax")->as_string(), "1.2.0");
  EXPECT_EQ(f.find("hooks")->as_array().size(), 6u);
  EXPECT_TRUE(array_has(f.find("mountOptions"), "rbind"));
  EXPECT_TRUE(array_has(f.find("mountOptions"), "rnosymfollow"));
  EXPECT_TRUE(array_has(f.find("mountOptions"), "idmap"));
  EXPECT_TRUE(array_has(f.find("mountOptions"), "tmpcopyup"));
}

TEST(Features, Linux) {
  const json::Value f = features_json();
  const json::Value* l = f.find("linux");
  ASSERT_NE(l, nullptr);
  for (const char* key : {"namespaces", "capabilities", "cgroup", "seccomp", "apparmor", "selinux", "intelRdt",
                          "mountExtensions"})
    EXPECT_NE(l->find(key), nullptr) << key;
  EXPECT_EQ(l->find("namespaces")->as_array().size(), 8u);
  EXPECT_EQ(l->find("capabilities")->as_array().size(), 41u);
  EXPECT_TRUE(array_has(l->find("capabilities"), "CAP_CHECKPOINT_RESTORE"));
  EXPECT_TRUE(l->find("cgroup")->find("v2")->as_bool());
  EXPECT_TRUE(l->find("mountExtensions")->find("idmap")->find("enabled")->as_bool());
}

TEST(Features, Seccomp) {
  const json::Value f = features_json();
  const json::Value* s = f.find("linux")->find("seccomp");
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->find("enabled")->as_bool());
  EXPECT_EQ(s->find("actions")->as_array().size(), 9u);
  EXPECT_EQ(s->find("operators")->as_array().size(), 7u);
  EXPECT_TRUE(array_has(s->find("archs"), "SCMP_ARCH_X86_64"));
  EXPECT_TRUE(array_has(s->find("knownFlags"), "SECCOMP_FILTER_FLAG_TSYNC"));
  ASSERT_NE(s->find("supportedFlags"), nullptr);
  // Every supported flag is a known one.
  for (const auto& flag : s->find("supportedFlags")->as_array())
    EXPECT_TRUE(array_has(s->find("knownFlags"), flag.as_string())) << flag.as_string();
}

TEST(Features, Annotations) {
  const json::Value f = features_json();
  const json::Value* a = f.find("annotations");
  ASSERT_NE(a, nullptr);
  const json::Value* v = a->find("io.github.seccomp.libseccomp.version");
  ASSERT_NE(v, nullptr);
  EXPECT_FALSE(v->as_string().empty());
  EXPECT_EQ(a->find("org.berth.runtime.version")->as_string(), "0.1.0");
}

}  // namespace
}  // namespace berth::runtime
