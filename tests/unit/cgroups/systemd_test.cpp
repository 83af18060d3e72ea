// systemd_test.cpp — the systemd manager against a recording systemd and a
// temp-dir cgroup v2 root.
#include "systemd.h"

#include <gtest/gtest.h>

#include "fake_root.h"

namespace berth::cgroups {
namespace {

using testing::FakeRoot;
using Methods = std::vector<std::string>;

struct Call {
  std::string method, unit;
  std::vector<UnitProperty> props;
};

// What the fake systemd saw, and how it answers.
struct FakeSystemd {
  std::vector<Call> calls;
  std::function<Status(const Call&)> answer = [](const Call&) { return ok(); };
  bool reachable = true;
  int connects = 0;

  std::vector<std::string> methods() const {
    std::vector<std::string> out;
    for (const auto& c : calls) out.push_back(c.method + " " + c.unit);
    return out;
  }
};

class RecordingUnits final : public UnitControl {
public:
  explicit RecordingUnits(FakeSystemd& sd) : sd_(sd) {}
  Status start_transient_unit(const std::string& n, const std::vector<UnitProperty>& p) override {
    return record("start", n, p);
  }
  Status set_unit_properties(const std::string& n, const std::vector<UnitProperty>& p) override {
    return record("set", n, p);
  }
  Status stop_unit(const std::string& n) override { return record("stop", n, {}); }
  Status reset_failed_unit(const std::string& n) override { return record("reset", n, {}); }

private:
  Status record(const char* method, const std::string& unit, const std::vector<UnitProperty>& p) {
    sd_.calls.push_back({method, unit, p});
    return sd_.answer(sd_.calls.back());
  }
  FakeSystemd& sd_;
};

ConnectSystemd connect_to(FakeSystemd& sd) {
  return [&sd]() -> Result<std::unique_ptr<UnitControl>> {
    ++sd.connects;
    if (!sd.reachable) return Error(ENOENT, "connect /run/systemd/private");
    return std::unique_ptr<UnitControl>(std::make_unique<RecordingUnits>(sd));
  };
}

bool has(const std::vector<UnitProperty>& props, const std::string& name) {
  for (const auto& p : props)
    if (p.name == name) return true;
  return false;
}

const std::string scope = "system.slice/berth-abc.scope";
const std::vector<std::string> leaf_files = {"cgroup.procs", "cgroup.freeze", "cpu.weight",
                                             "cpu.max",      "memory.max",    "memory.swap.max",
                                             "pids.max",     "hugetlb.2MB.max"};

class Systemd : public ::testing::Test {
protected:
  void SetUp() override {
    fake.file("cgroup.controllers", "cpuset cpu io memory hugetlb pids\n");
    fake.file("cgroup.subtree_control", "cpu memory pids\n");
    fake.file("system.slice/cgroup.subtree_control");
    // Starting a scope makes its cgroup, as systemd does.
    sd.answer = [this](const Call& c) {
      if (c.method == "start") fake.files(scope, leaf_files);
      return ok();
    };
  }

  std::unique_ptr<Manager> make(const std::string& path = "system.slice:berth:abc") {
    auto m = make_systemd_manager({fake.root(), path, "abc", true}, connect_to(sd));
    EXPECT_TRUE(m.ok()) << m.error().what();
    return m ? std::move(*m) : nullptr;
  }

  FakeRoot fake;
  FakeSystemd sd;
};

TEST_F(Systemd, PathAndDescription) {
  auto m = make();
  EXPECT_EQ(m->relative_path(), "/system.slice/berth-abc.scope");
  EXPECT_EQ(m->describe(), "berth-abc.scope (" + fake.root() + "/system.slice/berth-abc.scope)");
  EXPECT_EQ(make("")->relative_path(), "/system.slice/berth-abc.scope");  // ":berth:<id>"
  EXPECT_FALSE(make_systemd_manager({fake.root(), "bad", "abc", true}, connect_to(sd)).ok());
  EXPECT_EQ(sd.connects, 0);  // nothing reaches systemd before it is needed
}

TEST_F(Systemd, CreateReachesSystemdButStartsNothing) {
  auto m = make();
  ASSERT_TRUE(m->create().ok());
  Resources r;
  r.memory.limit = 1 << 20;
  ASSERT_TRUE(m->set(r).ok());
  EXPECT_EQ(sd.connects, 1);
  EXPECT_TRUE(sd.calls.empty());
  EXPECT_FALSE(fake.exists(scope));
}

TEST_F(Systemd, EnterStartsTheScopeWithPidAndLimits) {
  auto m = make();
  ASSERT_TRUE(m->create().ok());
  Resources r;
  r.memory.limit = 67108864;
  r.pids.limit = 32;
  r.cpu.shares = 512;
  r.cpu.quota = 50000;
  r.cpu.period = 100000;
  r.hugepage_limits = {{"2MB", 2097152}};
  ASSERT_TRUE(m->set(r).ok());
  Resources more;
  more.pids.limit = 16;  // a second set before the start overlays the first
  ASSERT_TRUE(m->set(more).ok());
  ASSERT_TRUE(m->enter(4242).ok());

  ASSERT_EQ(sd.methods(), Methods{"start berth-abc.scope"});
  auto want =
      unit_base_properties({"berth-abc.scope", "system.slice", ""}, "berth container abc", 4242);
  r.pids.limit = 16;
  auto limits = unit_resource_properties(r, true);
  ASSERT_TRUE(limits.ok());
  want.insert(want.end(), limits->begin(), limits->end());
  EXPECT_EQ(sd.calls[0].props, want);
  EXPECT_TRUE(has(sd.calls[0].props, "TasksMax"));

  // Everything also lands in the files, including what systemd does not model.
  EXPECT_EQ(fake.read(scope + "/memory.max"), "67108864");
  EXPECT_EQ(fake.read(scope + "/pids.max"), "16");
  EXPECT_EQ(fake.read(scope + "/cpu.max"), "50000 100000");
  EXPECT_EQ(fake.read(scope + "/cpu.weight"), "20");
  EXPECT_EQ(fake.read(scope + "/hugetlb.2MB.max"), "2097152");
  EXPECT_EQ(fake.read(scope + "/cgroup.procs"), "4242");
  // Controllers systemd leaves off (hugetlb) are enabled above the scope.
  EXPECT_NE(fake.read("system.slice/cgroup.subtree_control").find("+hugetlb"), std::string::npos);
}

TEST_F(Systemd, BadLimitFailsAtSet) {
  auto m = make();
  ASSERT_TRUE(m->create().ok());
  Resources r;
  r.cpu.cpus = "0-";
  Status s = m->set(r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message().rfind("linux.resources: cpu.cpus", 0), 0u) << s.error().message();
}

TEST_F(Systemd, ExecEnterOnlyMovesThePid) {
  fake.files(scope, leaf_files);
  auto m = make();
  ASSERT_TRUE(m->enter(77).ok());
  EXPECT_EQ(fake.read(scope + "/cgroup.procs"), "77");
  EXPECT_EQ(sd.connects, 0);
}

TEST_F(Systemd, UpdateTellsSystemdThenWritesFiles) {
  fake.files(scope, leaf_files);
  fake.file(scope + "/cpu.max", "20000 50000\n");
  auto m = make();
  Resources r;
  r.memory.limit = 33554432;
  r.cpu.quota = 10000;  // against the 50ms period in force
  ASSERT_TRUE(m->set(r).ok());
  ASSERT_EQ(sd.methods(), Methods{"set berth-abc.scope"});
  EXPECT_EQ(sd.calls[0].props, (std::vector<UnitProperty>{{"CPUQuotaPerSecUSec", uint64_t{200000}},
                                                          {"MemoryMax", uint64_t{33554432}}}));
  EXPECT_EQ(fake.read(scope + "/memory.max"), "33554432");
  EXPECT_EQ(fake.read(scope + "/cpu.max"), "10000");
}

TEST_F(Systemd, UpdateGoesOnWhenSystemdLacksAProperty) {
  fake.files(scope, leaf_files);
  sd.answer = [](const Call&) { return Error(ENOTSUP, "Cannot set property MemoryMax"); };
  auto m = make();
  Resources r;
  r.memory.limit = 4096;
  ASSERT_TRUE(m->set(r).ok());
  EXPECT_EQ(fake.read(scope + "/memory.max"), "4096");
}

TEST_F(Systemd, StartRetriesWithoutPropertiesSystemdLacks) {
  sd.answer = [this](const Call& c) -> Status {
    if (has(c.props, "MemoryMax")) return Error(ENOTSUP, "Cannot set property MemoryMax");
    fake.files(scope, leaf_files);
    return ok();
  };
  auto m = make();
  ASSERT_TRUE(m->create().ok());
  Resources r;
  r.memory.limit = 4096;
  ASSERT_TRUE(m->set(r).ok());
  ASSERT_TRUE(m->enter(5).ok());
  ASSERT_EQ(sd.methods(), (Methods{"start berth-abc.scope", "start berth-abc.scope"}));
  EXPECT_TRUE(has(sd.calls[1].props, "PIDs"));
  EXPECT_EQ(fake.read(scope + "/memory.max"), "4096");
}

TEST_F(Systemd, StartResetsAFailedUnitOfTheSameName) {
  int starts = 0;
  sd.answer = [&](const Call& c) -> Status {
    if (c.method != "start") return ok();
    if (++starts == 1) return Error(EEXIST, "Unit berth-abc.scope already exists");
    fake.files(scope, leaf_files);
    return ok();
  };
  auto m = make();
  ASSERT_TRUE(m->create().ok());
  ASSERT_TRUE(m->enter(5).ok());
  EXPECT_EQ(sd.methods(),
            (Methods{"start berth-abc.scope", "reset berth-abc.scope", "start berth-abc.scope"}));
}

TEST_F(Systemd, StartFailureIsReportedAndNothingIsStopped) {
  sd.answer = [](const Call& c) -> Status {
    if (c.method == "start") return Error::msg("start unit berth-abc.scope: job failed");
    return ok();
  };
  auto m = make();
  ASSERT_TRUE(m->create().ok());
  Status s = m->enter(5);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "start unit berth-abc.scope: job failed");
  ASSERT_TRUE(m->destroy().ok());
  EXPECT_EQ(sd.methods(), Methods{"start berth-abc.scope"});
}

TEST_F(Systemd, DestroyStopsTheUnitOnceThenRemovesTheRest) {
  fake.files(scope, leaf_files);
  fake.dir(scope + "/sub");  // made by the container (delegated)
  int stops = 0;
  sd.answer = [&](const Call& c) -> Status {
    if (c.method == "stop" && ++stops == 1) fake.strip_files(scope);  // systemd keeps the dirs here
    return ok();
  };
  auto m = make();
  ASSERT_TRUE(m->destroy().ok());
  EXPECT_FALSE(fake.exists(scope));
  ASSERT_TRUE(m->destroy().ok());
  EXPECT_EQ(sd.methods(), (Methods{"stop berth-abc.scope", "reset berth-abc.scope"}));
}

TEST_F(Systemd, DestroyOfAGoneUnitIsFine) {
  sd.answer = [](const Call& c) -> Status {
    if (c.method == "stop") return Error(ENOENT, "Unit berth-abc.scope not loaded");
    return ok();
  };
  auto m = make();
  EXPECT_TRUE(m->destroy().ok());
}

TEST_F(Systemd, DestroyReportsABusyCgroupWithTheStopError) {
  fake.files(scope, leaf_files);  // files stay: rmdir fails
  sd.answer = [](const Call& c) -> Status {
    if (c.method == "stop") return Error(ETIMEDOUT, "stop unit berth-abc.scope: job timeout");
    return ok();
  };
  auto m = make();
  Status s = m->destroy();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("stop unit berth-abc.scope"), std::string::npos)
      << s.error().message();
}

TEST_F(Systemd, UnreachableSystemdIsAClearErrorAtCreate) {
  sd.reachable = false;
  auto m = make();
  Status s = m->create();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(),
            "systemd cgroup manager: cannot reach systemd over D-Bus: "
            "connect /run/systemd/private");
  EXPECT_EQ(s.error().code(), ENOENT);
  // The cleanup after a failed create has nothing to stop and nothing to remove.
  EXPECT_TRUE(m->destroy().ok());
  EXPECT_EQ(sd.connects, 1);
}

TEST_F(Systemd, SliceUnitGetsNoPidsAndTheProcessIsMovedByHand) {
  std::string slice = "sub.slice/sub-x.slice";
  sd.answer = [&](const Call& c) {
    if (c.method == "start") fake.files(slice, leaf_files);
    return ok();
  };
  auto m = make("machine.slice:p:sub-x.slice");
  ASSERT_TRUE(m->create().ok());
  ASSERT_TRUE(m->enter(9).ok());
  ASSERT_EQ(sd.methods(), Methods{"start sub-x.slice"});
  EXPECT_FALSE(has(sd.calls[0].props, "PIDs"));
  EXPECT_FALSE(has(sd.calls[0].props, "Slice"));
  EXPECT_EQ(fake.read(slice + "/cgroup.procs"), "9");
}

}  // namespace
}  // namespace berth::cgroups
