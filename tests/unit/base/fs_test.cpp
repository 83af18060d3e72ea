// fs_test.cpp — atomic writes and directory helpers.
#include "berth/base/fs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace berth::fs {
namespace {

class FsTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-fs-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(remove_tree(dir_)); }
  std::string dir_;
};

TEST_F(FsTest, AtomicWriteReplacesWholeFileAndLeavesNoTemp) {
  std::string p = join(dir_, "state.json");
  ASSERT_TRUE(write_file_atomic(p, "old"));
  ASSERT_TRUE(write_file_atomic(p, "new content"));
  EXPECT_EQ(*read_file(p), "new content");
  auto names = list_dir(dir_);
  ASSERT_TRUE(names);
  EXPECT_EQ(names->size(), 1u);
}

TEST_F(FsTest, AtomicWriteIntoMissingDirFailsNamingPath) {
  auto st = write_file_atomic(join(dir_, "nope/x"), "a");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("nope"), std::string::npos);
}

TEST_F(FsTest, MkdirPAndRemoveTree) {
  ASSERT_TRUE(mkdir_p(join(dir_, "a/b/c")));
  ASSERT_TRUE(write_file_atomic(join(dir_, "a/b/c/f"), "x"));
  ASSERT_TRUE(remove_tree(join(dir_, "a")));
  EXPECT_FALSE(exists(join(dir_, "a")));
  EXPECT_TRUE(remove_tree(join(dir_, "a")));  // missing is fine
}

TEST_F(FsTest, ReadFileLimit) {
  std::string p = join(dir_, "big");
  ASSERT_TRUE(write_file_atomic(p, std::string(100, 'x')));
  auto r = read_file(p, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), EFBIG);
}

TEST(FsPath, JoinAndAbsolute) {
  EXPECT_EQ(join("/a/", "/b"), "/a/b");
  EXPECT_EQ(absolute("/x//y/./z/"), "/x/y/z");
  EXPECT_EQ(absolute("/"), "/");
}

}  // namespace
}  // namespace berth::fs
