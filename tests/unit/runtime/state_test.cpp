// state_test.cpp — the state directory: ids, state.json written and read
// back (the hooks kept for start and delete), status derived from the
// process and the start fifo, and list() taking only containers.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "berth/base/fs.h"
#include "internal.h"

namespace berth::runtime {
namespace {

class StateDir : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-state-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    g_.root = tmpl;
    g_.cgroup_root = std::string(tmpl) + "/no-cgroups";
  }
  void TearDown() override { (void)fs::remove_tree(g_.root); }

  // A state for `pid`, saved the way create saves it.
  State saved(const std::string& id, pid_t pid, bool with_hooks) {
    State s;
    s.oci_version = "1.2.0";
    s.id = id;
    s.pid = pid;
    s.start_time = proc_info(pid).start_time;
    s.bundle = "/bundles/" + id;
    s.rootfs = s.bundle + "/rootfs";
    s.created = "2026-12-07T21:00:00Z";
    s.annotations["org.example"] = "yes";
    s.cgroup_path = "/berth/" + id;
    if (with_hooks) {
      Hook h;
      h.path = "/bin/true";
      h.args = {"true", "started"};
      h.timeout = 5;
      s.poststart = hooks_to_json({h});
      s.poststop = hooks_to_json({h, h});
    }
    EXPECT_TRUE(fs::mkdir_p(state_dir(g_, id), 0711));
    EXPECT_TRUE(save_state(g_, s));
    return s;
  }

  Globals g_;
};

TEST(ContainerId, RuncsCharactersOnly) {
  EXPECT_TRUE(validate_id("web-1.a_b+c"));
  EXPECT_EQ(validate_id("").error().what(), "container id: must not be empty");
  EXPECT_EQ(validate_id("..").error().what(), "container id: invalid id ..");
  EXPECT_FALSE(validate_id("a/b"));
  EXPECT_FALSE(validate_id(std::string(1025, 'a')));
  // The seccomp cache's name is no id, so no container can take its place.
  EXPECT_FALSE(validate_id("seccomp@cache"));
}

TEST_F(StateDir, SavedStateReadsBack) {
  State s = saved("c1", ::getpid(), true);
  struct stat st {};
  ASSERT_EQ(::stat((state_dir(g_, "c1") + "/state.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto r = read_state_file(g_, "c1");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->id, "c1");
  EXPECT_EQ(r->pid, ::getpid());
  EXPECT_EQ(r->start_time, s.start_time);
  EXPECT_EQ(r->bundle, "/bundles/c1");
  EXPECT_EQ(r->rootfs, "/bundles/c1/rootfs");
  EXPECT_EQ(r->cgroup_path, "/berth/c1");
  EXPECT_EQ(r->annotations.at("org.example"), "yes");
  auto post = hooks_from_json(r->poststart);
  ASSERT_TRUE(post) << post.error().what();
  ASSERT_EQ(post->size(), 1u);
  EXPECT_EQ((*post)[0].path, "/bin/true");
  EXPECT_EQ((*post)[0].args, (std::vector<std::string>{"true", "started"}));
  EXPECT_EQ((*post)[0].timeout, 5);
  auto stop = hooks_from_json(r->poststop);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->size(), 2u);
}

// No poststart hooks: an empty list is kept, so start knows not to read the
// bundle; a state written before they were kept has none (null), and start
// reads the bundle for it.
TEST_F(StateDir, PoststartKeptEvenWhenEmpty) {
  saved("none", ::getpid(), false);
  auto r = read_state_file(g_, "none");
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->poststart.is_array());
  EXPECT_TRUE(r->poststart.as_array().empty());
  EXPECT_TRUE(r->poststop.is_null());

  ASSERT_TRUE(fs::mkdir_p(state_dir(g_, "old"), 0711));
  ASSERT_TRUE(fs::write_file_atomic(state_dir(g_, "old") + "/state.json",
                                    R"({"ociVersion":"1.2.0","id":"old","pid":1,"bundle":"/b","status":"created"})"));
  auto old = read_state_file(g_, "old");
  ASSERT_TRUE(old) << old.error().what();
  EXPECT_TRUE(old->poststart.is_null());
}

TEST_F(StateDir, StatusIsDerived) {
  saved("live", ::getpid(), false);
  ASSERT_TRUE(fs::write_file_atomic(state_dir(g_, "live") + "/exec.fifo", ""));
  auto created = load_state(g_, "live");
  ASSERT_TRUE(created) << created.error().what();
  EXPECT_EQ(created->status, ContainerStatus::created);
  ASSERT_EQ(::unlink((state_dir(g_, "live") + "/exec.fifo").c_str()), 0);
  EXPECT_EQ(load_state(g_, "live")->status, ContainerStatus::running);

  // A pid reaped (or reused by another process: another start time) is stopped.
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  saved("gone", child, false);
  EXPECT_EQ(load_state(g_, "gone")->status, ContainerStatus::stopped);
  State reused = saved("reused", ::getpid(), false);
  reused.start_time += 1;
  ASSERT_TRUE(save_state(g_, reused));
  EXPECT_EQ(load_state(g_, "reused")->status, ContainerStatus::stopped);

  auto missing = load_state(g_, "nosuch");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().what(), "container nosuch does not exist: No such file or directory");
}

// list() returns the containers, never the seccomp cache or a directory
// whose state cannot be read.
TEST_F(StateDir, ListTakesOnlyContainers) {
  saved("a", ::getpid(), false);
  saved("b", ::getpid(), false);
  ASSERT_TRUE(fs::mkdir_p(seccomp_cache_dir(g_), 0700));
  ASSERT_TRUE(fs::mkdir_p(g_.root + "/half-made", 0711));
  auto l = list(g_);
  ASSERT_TRUE(l) << l.error().what();
  std::vector<std::string> ids;
  for (const State& s : *l) ids.push_back(s.id);
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b"}));

  Globals none = g_;
  none.root = g_.root + "/never-made";
  auto empty = list(none);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(ProcInfo, OwnProcessAndNone) {
  ProcInfo me = proc_info(::getpid());
  EXPECT_TRUE(me.exists);
  EXPECT_GT(me.start_time, 0u);
  EXPECT_TRUE(process_alive(::getpid(), me.start_time));
  EXPECT_FALSE(process_alive(::getpid(), me.start_time + 1));
  EXPECT_FALSE(proc_info(0).exists);
  EXPECT_FALSE(proc_info(-1).exists);
}

}  // namespace
}  // namespace berth::runtime
