// caps_test.cpp — the capability name table, and the sets capset and the ambient raise leave.
#include <linux/capability.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>

#include "security.h"

namespace berth::runtime {
namespace {

TEST(Capabilities, NamesRoundTrip) {
  for (int cap = 0; cap <= 40; ++cap) {
    const std::string name = capability_name(cap);
    ASSERT_FALSE(name.empty()) << cap;
    EXPECT_EQ(capability_from_name(name), cap) << name;
  }
}

TEST(Capabilities, KnownNumbers) {
  EXPECT_EQ(capability_from_name("CAP_CHOWN"), 0);
  EXPECT_EQ(capability_from_name("CAP_SYS_ADMIN"), CAP_SYS_ADMIN);
  EXPECT_EQ(capability_from_name("CAP_NET_BIND_SERVICE"), 10);
  EXPECT_EQ(capability_from_name("CAP_CHECKPOINT_RESTORE"), 40);
  EXPECT_STREQ(capability_name(21), "CAP_SYS_ADMIN");
}

TEST(Capabilities, UnknownNames) {
  EXPECT_EQ(capability_from_name("CAP_FOO"), -1);
  EXPECT_EQ(capability_from_name("SYS_ADMIN"), -1);
  EXPECT_EQ(capability_from_name("cap_sys_admin"), -1);
  EXPECT_EQ(capability_from_name(""), -1);
  EXPECT_STREQ(capability_name(-1), "");
  EXPECT_STREQ(capability_name(41), "");
}

TEST(Capabilities, LastCapabilityIsPlausible) {
  // Linux 3.x has at least CAP_BLOCK_SUSPEND (36); no kernel has 64.
  EXPECT_GE(last_capability(), 36);
  EXPECT_LT(last_capability(), 64);
}

// The hex mask of one "CapXxx:" line of /proc/self/status.
uint64_t status_mask(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) return std::stoull(line.substr(key.size() + 1), nullptr, 16);
  return ~0ull;
}

// Runs `body` in a forked child (capability changes are for good) and
// returns its exit status: 0 when every check in it held.
template <typename Body>
int exit_status_in_child(Body body) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  if (pid < 0) return -1;
  int status = 0;
  if (::waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

TEST(Capabilities, SetsOnlyWhatWasAsked) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_EQ(exit_status_in_child([] {
              const uint64_t kill = 1ull << CAP_KILL, bind = 1ull << CAP_NET_BIND_SERVICE;
              if (!drop_bounding_set(Kernel::host(), {CAP_KILL, CAP_NET_BIND_SERVICE})) return 1;
              Capabilities caps;
              caps.effective = caps.permitted = {CAP_KILL, CAP_NET_BIND_SERVICE};
              caps.inheritable = caps.ambient = {CAP_NET_BIND_SERVICE};
              if (!set_capabilities(Kernel::host(), caps)) return 2;
              if (status_mask("CapBnd") != (kill | bind)) return 3;
              if (status_mask("CapEff") != (kill | bind) || status_mask("CapPrm") != (kill | bind)) return 4;
              if (status_mask("CapInh") != bind || status_mask("CapAmb") != bind) return 5;
              return 0;
            }),
            0);
}

// runc's default spec: an ambient set without an inheritable one. The
// kernel cannot raise it; that is a warning, and inheritable stays empty.
TEST(Capabilities, AmbientWithoutInheritableIsNotAnError) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  EXPECT_EQ(exit_status_in_child([] {
              const uint64_t kill = 1ull << CAP_KILL;
              if (!drop_bounding_set(Kernel::host(), {CAP_KILL})) return 1;
              Capabilities caps;
              caps.effective = caps.permitted = caps.ambient = {CAP_KILL};
              if (!set_capabilities(Kernel::host(), caps)) return 2;
              if (status_mask("CapEff") != kill || status_mask("CapPrm") != kill) return 3;
              if (status_mask("CapInh") != 0 || status_mask("CapAmb") != 0) return 4;
              return 0;
            }),
            0);
}

}  // namespace
}  // namespace berth::runtime
