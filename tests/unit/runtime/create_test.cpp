// create_test.cpp — the runtime's side of create before the clone: which
// namespaces it joins itself, which it hands to the init (in which
// order), and which the init is cloned into.
#include <gtest/gtest.h>
#include <sched.h>

#include <string>
#include <vector>

#include "fake_kernel.h"
#include "internal.h"

namespace berth::runtime {
namespace {

Spec spec_with(const std::string& namespaces) {
  auto s = parse_spec(R"({"ociVersion":"1.2.0","root":{"path":"rootfs"},"process":{"args":["/bin/sh"],"cwd":"/"},)"
                      R"("linux":{"namespaces":)" +
                          namespaces + "}}",
                      "/b");
  EXPECT_TRUE(s) << s.error().what();
  return s ? std::move(*s) : Spec{};
}

std::vector<int> types(const std::vector<std::pair<int, int>>& joins) {
  std::vector<int> out;
  for (const auto& j : joins) out.push_back(j.second);
  return out;
}

// The pid namespace is joined by the runtime (it applies to the clone);
// the rest go to the init, the user namespace first whatever the
// config's order; new namespaces are not opened.
TEST(CreateJoins, RuntimeJoinsPidAndHandsTheRestUserFirst) {
  Spec spec = spec_with(R"([{"type":"network","path":"/proc/self/ns/net"},{"type":"pid","path":"/proc/self/ns/pid"},
                            {"type":"ipc"},{"type":"user","path":"/proc/self/ns/user"}])");
  FakeKernel k;
  std::vector<UniqueFd> keep;
  auto joins = open_join_namespaces(k, spec, keep);
  ASSERT_TRUE(joins) << joins.error().what();
  EXPECT_EQ(k.calls, std::vector<std::string>{"setns(CLONE_NEWPID)"});
  EXPECT_EQ(types(*joins), (std::vector<int>{CLONE_NEWUSER, CLONE_NEWNET}));
  EXPECT_EQ(keep.size(), 3u);
  for (const auto& [fd, type] : *joins) EXPECT_GE(fd, 0);
}

TEST(CreateJoins, MissingPathIsNamedAndNothingIsJoined) {
  Spec spec = spec_with(R"([{"type":"network","path":"/nonexistent/net"},{"type":"pid","path":"/proc/self/ns/pid"}])");
  FakeKernel k;
  std::vector<UniqueFd> keep;
  auto joins = open_join_namespaces(k, spec, keep);
  ASSERT_FALSE(joins);
  EXPECT_EQ(joins.error().what(), "linux.namespaces network: open /nonexistent/net: No such file or directory");
  EXPECT_TRUE(k.calls.empty());
}

TEST(CreateJoins, RefusedPidJoinIsNamed) {
  Spec spec = spec_with(R"([{"type":"pid","path":"/proc/self/ns/pid"}])");
  FakeKernel k;
  k.fail_on = "setns(CLONE_NEWPID)";
  k.fail_errno = EPERM;
  std::vector<UniqueFd> keep;
  auto joins = open_join_namespaces(k, spec, keep);
  ASSERT_FALSE(joins);
  EXPECT_EQ(joins.error().what(), "linux.namespaces pid: setns /proc/self/ns/pid: Operation not permitted");
}

// cgroup and time namespaces are the init's to unshare (rooted at its
// cgroup; offsets written first); joined namespaces are not new.
TEST(CreateClone, FlagsLeaveOutJoinedCgroupAndTime) {
  Spec spec = spec_with(R"([{"type":"pid"},{"type":"mount"},{"type":"network","path":"/proc/self/ns/net"},
                            {"type":"cgroup"},{"type":"time"},{"type":"uts"}])");
  EXPECT_EQ(new_namespace_flags(spec), CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWUTS);
}

}  // namespace
}  // namespace berth::runtime
