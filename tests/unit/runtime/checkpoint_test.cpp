// checkpoint_test.cpp — checkpoint's and restore's refusals, each before
// anything is made: no image directory, no state directory, no criu run.
// (The dump and restore themselves need CRIU on a kernel it works on:
// tests/host/checkpoint_test.sh in the vm tier, and podman's case.)
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

#include "berth/base/fs.h"
#include "berth/runtime/container.h"

namespace berth::runtime {
namespace {

class CheckpointRefusals : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-checkpoint-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    g_.root = dir_ + "/state";
    g_.cgroup_root = dir_ + "/no-cgroups";
    g_.criu = dir_ + "/no-criu";  // never reached
    ASSERT_TRUE(fs::mkdir_p(dir_ + "/bundle/rootfs", 0755));
    config(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
               "process": {"args": ["sh"], "cwd": "/", "terminal": TERM}})",
           "false");
  }
  void TearDown() override { (void)fs::remove_tree(dir_); }

  void config(std::string text, const std::string& terminal) {
    text.replace(text.find("TERM"), 4, terminal);
    ASSERT_TRUE(fs::write_file_atomic(dir_ + "/bundle/config.json", text));
  }
  RestoreOptions restore_opts(const std::string& id) {
    RestoreOptions o;
    o.create.id = id;
    o.create.bundle = dir_ + "/bundle";
    o.criu.image_path = dir_ + "/images";
    o.detach = true;
    return o;
  }
  void expect_error(const berth::Status& st, const std::string& words) {
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().what().find(words), std::string::npos) << st.error().what();
  }
  bool made(const std::string& rel) { return fs::exists(dir_ + "/" + rel); }

  std::string dir_;
  Globals g_;
};

TEST_F(CheckpointRefusals, CheckpointOfAnUnknownContainerMakesNoImages) {
  CheckpointOptions o;
  o.id = "nope";
  o.criu.image_path = dir_ + "/images";
  auto st = checkpoint(g_, o);
  ASSERT_FALSE(st);
  EXPECT_FALSE(made("images"));
}

TEST_F(CheckpointRefusals, BadFlagWordsAreRefusedByName) {
  CheckpointOptions o;
  o.id = "c1";
  o.criu.image_path = dir_ + "/images";
  o.criu.manage_cgroups_mode = "hard";
  expect_error(checkpoint(g_, o), "--manage-cgroups-mode");
  o.criu.manage_cgroups_mode = "";
  o.criu.empty_ns = {"ipc"};
  expect_error(checkpoint(g_, o), "--empty-ns");
  auto r = restore_opts("c1");
  r.criu.manage_cgroups_mode = "hard";
  auto res = restore(g_, r);
  ASSERT_FALSE(res);
  EXPECT_NE(res.error().what().find("--manage-cgroups-mode"), std::string::npos);
  EXPECT_FALSE(made("images"));
  EXPECT_FALSE(made("state"));
}

TEST_F(CheckpointRefusals, RestoreWithoutImagesLeavesNoState) {
  ASSERT_TRUE(fs::mkdir_p(g_.root, 0700));
  auto r = restore(g_, restore_opts("c1"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("--image-path"), std::string::npos) << r.error().what();
  EXPECT_FALSE(made("state/c1"));
}

TEST_F(CheckpointRefusals, RestoreRefusesABadIdAndAMissingBundle) {
  auto r = restore(g_, restore_opts("../x"));
  ASSERT_FALSE(r);
  auto o = restore_opts("c1");
  o.create.bundle = dir_ + "/no-bundle";
  auto m = restore(g_, o);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().what().find("no-bundle"), std::string::npos) << m.error().what();
  EXPECT_FALSE(made("state"));
}

TEST_F(CheckpointRefusals, ADetachedRestoreWithATerminalNeedsAConsoleSocket) {
  ASSERT_TRUE(fs::mkdir_p(dir_ + "/images", 0700));
  config(R"({"ociVersion": "1.2.0", "root": {"path": "rootfs"},
             "process": {"args": ["sh"], "cwd": "/", "terminal": TERM}})",
         "true");
  auto r = restore(g_, restore_opts("c1"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("--console-socket"), std::string::npos) << r.error().what();
  EXPECT_FALSE(made("state"));
}

}  // namespace
}  // namespace berth::runtime
