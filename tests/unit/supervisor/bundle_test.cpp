// bundle_test.cpp — the generated OCI bundle parses with the runtime's own
// parser and carries the record's limits.
#include "berth/supervisor/bundle.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <signal.h>
#include <sys/mount.h>

#include "berth/runtime/spec.h"

using namespace berth;
using namespace berth::supervisor;

TEST(Bundle, SpecParsesAndCarriesLimits) {
  Record r;
  r.name = "ct1";
  r.rootfs_source = "/templates/bb";
  r.ram = 64u << 20;
  r.swap = 32u << 20;
  r.cpus = 2;
  r.cpu_limit = 50;
  r.cpu_weight = 100;
  r.cpuset = "0";
  r.pids = 100;
  Layout l;
  l.state_dir = "/var/lib/berth-test";
  l.cgroup_parent = "berth.t";
  auto spec = runtime::parse_spec(json::dump(make_spec(r, l)), "/var/lib/berth-test/containers/ct1/bundle");
  ASSERT_TRUE(spec) << spec.error().what();
  EXPECT_EQ(spec->root_path, "/var/lib/berth-test/containers/ct1/rootfs");
  EXPECT_EQ(spec->hostname, "ct1");
  EXPECT_EQ(spec->process->args, std::vector<std::string>{"/sbin/init"});
  EXPECT_TRUE(spec->process->terminal);
  EXPECT_EQ(spec->linux.cgroups_path, "/berth.t/ct1");
  const auto& res = *spec->linux.resources;
  EXPECT_EQ(*res.memory.limit, 64 << 20);
  EXPECT_EQ(*res.memory.swap, 96 << 20);
  EXPECT_EQ(*res.cpu.quota, 50000);  // CPULIMIT 50% is tighter than CPUS 2
  EXPECT_EQ(*res.cpu.period, 100000u);
  EXPECT_EQ(res.cpu.cpus, "0");
  EXPECT_EQ(*res.pids.limit, 100);
  EXPECT_TRUE(spec->has_namespace(CLONE_NEWPID));
  EXPECT_TRUE(spec->has_namespace(CLONE_NEWNET));
  // The default seccomp profile: allow, but not what reaches the host's kernel.
  ASSERT_TRUE(spec->linux.seccomp);
  const auto& sc = *spec->linux.seccomp;
  EXPECT_EQ(sc.default_action, "SCMP_ACT_ALLOW");
  ASSERT_EQ(sc.syscalls.size(), 3u);
  const auto& names = sc.syscalls[0].names;
  for (const char* n : {"kexec_load", "init_module", "finit_module", "open_by_handle_at", "keyctl", "swapon"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  EXPECT_EQ(sc.syscalls[0].errno_ret, ENOSYS);
  EXPECT_EQ(sc.syscalls[1].names, std::vector<std::string>{"umount2"});
  ASSERT_EQ(sc.syscalls[1].args.size(), 1u);
  EXPECT_EQ(sc.syscalls[1].args[0].op, "SCMP_CMP_MASKED_EQ");
  // sysinfo goes to the monitor, which answers with the container's figures.
  EXPECT_EQ(sc.syscalls[2].names, std::vector<std::string>{"sysinfo"});
  EXPECT_EQ(sc.syscalls[2].action, "SCMP_ACT_NOTIFY");
  EXPECT_EQ(sc.listener_path, "/run/berthd/monitors/ct1/seccomp.sock");
}

TEST(Bundle, NoLimitsNoResources) {
  Record r;
  r.name = "ct2";
  EXPECT_TRUE(resources_json(resources_of(r)).as_object().empty());
}

TEST(Bundle, ResourcesRoundTripThroughJson) {
  Record r;
  r.name = "ct3";
  r.ram = 64u << 20;
  r.cpus = 1;
  r.cpu_weight = 100;
  r.cpuset = "0-1";
  r.pids = 50;
  cgroups::Resources want = resources_of(r);
  auto got = cgroups::parse_resources(resources_json(want), "resources");
  ASSERT_TRUE(got) << got.error().what();
  EXPECT_EQ(got->memory.limit, want.memory.limit);
  EXPECT_EQ(got->memory.swap, want.memory.swap);
  EXPECT_EQ(got->cpu.quota, want.cpu.quota);
  EXPECT_EQ(got->cpu.period, want.cpu.period);
  EXPECT_EQ(got->cpu.shares, want.cpu.shares);
  EXPECT_EQ(got->cpu.cpus, "0-1");
  EXPECT_EQ(got->pids.limit, 50);
}

TEST(Bundle, WeightRoundTripsThroughShares) {
  for (uint32_t w : {1u, 2u, 100u, 5000u, 9999u, 10000u}) {
    uint64_t s = weight_to_shares(w);
    EXPECT_EQ(1 + ((s - 2) * 9999) / 262142, w) << w;
  }
}

TEST(Bundle, HaltSignals) {
  EXPECT_EQ(halt_signal(InitKind::systemd), SIGRTMIN + 3);
  EXPECT_EQ(halt_signal(InitKind::busybox), SIGUSR2);
  EXPECT_EQ(halt_signal(InitKind::app), SIGTERM);
}

TEST(Bundle, AppRunsTheImageProcess) {
  Record r;
  r.name = "app1";
  r.template_tag = "reg/app:1";
  r.init = InitKind::app;
  Layout l;
  auto app = json::parse(R"({"args":["/bin/sh","-c","sleep 1"],"env":["PATH=/bin","container=berth"],
                             "cwd":"/srv","uid":1000,"gid":100})");
  ASSERT_TRUE(app);
  auto spec = runtime::parse_spec(json::dump(make_spec(r, l, &*app)), "/var/lib/berth/containers/app1/bundle");
  ASSERT_TRUE(spec) << spec.error().what();
  EXPECT_EQ(spec->process->args, (std::vector<std::string>{"/bin/sh", "-c", "sleep 1"}));
  EXPECT_EQ(spec->process->cwd, "/srv");
  EXPECT_EQ(spec->process->user.uid, 1000u);
  EXPECT_EQ(spec->process->user.gid, 100u);
  EXPECT_TRUE(spec->process->terminal);
  EXPECT_EQ(spec->root_path, "/var/lib/berth/containers/app1/disk/rootfs");
}

TEST(Cpus, ListsParseAndFormat) {
  EXPECT_EQ(*parse_cpu_list("0-3,8\n"), (std::vector<unsigned>{0, 1, 2, 3, 8}));
  EXPECT_EQ(*parse_cpu_list(""), std::vector<unsigned>{});
  EXPECT_EQ(*parse_cpu_list("5,1,1"), (std::vector<unsigned>{1, 5}));
  EXPECT_FALSE(parse_cpu_list("3-1"));
  EXPECT_FALSE(parse_cpu_list("a"));
  EXPECT_FALSE(parse_cpu_list("1,,2"));
  EXPECT_EQ(format_cpu_list({0, 1, 2, 3, 8}), "0-3,8");
  EXPECT_EQ(format_cpu_list({3, 0, 2}), "0,2-3");
  EXPECT_EQ(format_cpu_list({}), "");
}

TEST(Cpus, PinsToTheLeastUsed) {
  std::vector<unsigned> four{0, 1, 2, 3};
  EXPECT_EQ(pick_cpus(1, four, {}), "0");
  EXPECT_EQ(pick_cpus(2, four, {{0, 1}}), "1-2");
  EXPECT_EQ(pick_cpus(2, four, {{0, 2}, {1, 1}, {2, 1}}), "1,3");
  EXPECT_EQ(pick_cpus(1, four, {{0, 1}, {1, 1}, {2, 1}, {3, 1}}), "0");  // a tie: the lowest
  EXPECT_EQ(pick_cpus(4, four, {}), "");  // all of them: no pin
  EXPECT_EQ(pick_cpus(0, four, {}), "");
  EXPECT_EQ(pick_cpus(1, {2, 5}, {{2, 3}}), "5");
}

TEST(Bundle, SystemdGetsAWritableCgroup2TreeOfItsOwn) {
  Record r;
  r.name = "deb1";
  r.init = InitKind::systemd;
  r.idmap_base = 1u << 24;
  Layout l;
  auto spec = runtime::parse_spec(json::dump(make_spec(r, l)), "/var/lib/berth/containers/deb1/bundle");
  ASSERT_TRUE(spec) << spec.error().what();
  EXPECT_TRUE(spec->has_namespace(CLONE_NEWCGROUP));
  EXPECT_TRUE(spec->has_namespace(CLONE_NEWUSER));
  auto m = std::find_if(spec->mounts.begin(), spec->mounts.end(),
                        [](const runtime::Mount& x) { return x.destination == "/sys/fs/cgroup"; });
  ASSERT_NE(m, spec->mounts.end());
  EXPECT_EQ(m->type, "cgroup2");
  EXPECT_FALSE(m->flags & MS_RDONLY);
  // A busybox init keeps the host's layout, read-only.
  r.init = InitKind::busybox;
  spec = runtime::parse_spec(json::dump(make_spec(r, l)), "/var/lib/berth/containers/deb1/bundle");
  ASSERT_TRUE(spec) << spec.error().what();
  m = std::find_if(spec->mounts.begin(), spec->mounts.end(),
                   [](const runtime::Mount& x) { return x.destination == "/sys/fs/cgroup"; });
  ASSERT_NE(m, spec->mounts.end());
  EXPECT_EQ(m->type, "cgroup");
  EXPECT_TRUE(m->flags & MS_RDONLY);
}

TEST(Bundle, PowerFromInside) {
  auto exit_with = [](int sig) {
    json::Value e = json::Value::object();
    e.set("signal", sig);
    return e;
  };
  json::Value code0 = json::Value::object();
  code0.set("code", 0);
  EXPECT_EQ(power_exit(InitKind::systemd, exit_with(SIGHUP)), PowerExit::reboot);
  EXPECT_EQ(power_exit(InitKind::busybox, exit_with(SIGINT)), PowerExit::poweroff);
  EXPECT_EQ(power_exit(InitKind::systemd, exit_with(SIGKILL)), PowerExit::none);
  EXPECT_EQ(power_exit(InitKind::systemd, code0), PowerExit::none);
  // An app's SIGHUP is a crash like any other signal.
  EXPECT_EQ(power_exit(InitKind::app, exit_with(SIGHUP)), PowerExit::none);
}
