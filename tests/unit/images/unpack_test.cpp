// unpack_test.cpp — what the layer unpacker creates: files, directories,
// links, devices, xattrs, owners, whiteouts in both modes, compression.
#include "berth/images/unpack.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>

#include "berth/base/fs.h"
#include "tar_builder.h"

namespace berth::images {
namespace {

using testing::Compression;
using testing::TarBuilder;

class UnpackTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("unpack-test");
    root_ = dir_ + "/root";
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    fd_.reset(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd_);
    opts_.overlay_xattr_prefix = "user.overlay.";
    opts_.set_owner = testing::is_root();
    opts_.create_devices = testing::is_root();
  }
  void TearDown() override { ASSERT_TRUE(testing::remove_temp_dir(dir_)); }

  Result<UnpackStats> unpack(const std::string& bytes) {
    UniqueFd src = testing::memfd_with(bytes);
    return unpack_layer(src.get(), fd_.get(), opts_, "test");
  }
  void must_unpack(const std::string& bytes) {
    auto r = unpack(bytes);
    ASSERT_TRUE(r) << r.error().what();
  }
  struct stat lstat_of(const std::string& rel) {
    struct stat st {};
    EXPECT_EQ(::lstat((root_ + "/" + rel).c_str(), &st), 0) << rel;
    return st;
  }
  std::string read(const std::string& rel) { return fs::read_file(root_ + "/" + rel).value(); }
  std::string xattr(const std::string& rel, const std::string& name) {
    char buf[256];
    ssize_t n = ::lgetxattr((root_ + "/" + rel).c_str(), name.c_str(), buf, sizeof buf);
    return n < 0 ? "<none>" : std::string(buf, static_cast<size_t>(n));
  }
  bool user_xattrs_work() {
    std::string probe = dir_ + "/probe";
    EXPECT_TRUE(fs::write_file_atomic(probe, ""));
    return ::setxattr(probe.c_str(), "user.probe", "1", 1, 0) == 0;
  }

  std::string dir_, root_;
  UniqueFd fd_;
  UnpackOptions opts_;
};

TEST(CleanEntryPath, NormalisesAndRefuses) {
  EXPECT_EQ(*clean_entry_path("./usr//bin/./sh"), "usr/bin/sh");
  EXPECT_EQ(*clean_entry_path("./"), ".");
  EXPECT_EQ(*clean_entry_path("etc/"), "etc");
  EXPECT_EQ(clean_entry_path("a/../b").error().what(), "path has a \"..\" component");
  EXPECT_EQ(clean_entry_path("..").error().what(), "path has a \"..\" component");
  EXPECT_EQ(clean_entry_path("/etc/passwd").error().what(), "absolute path");
  EXPECT_FALSE(clean_entry_path(""));
  EXPECT_EQ(*clean_entry_path("a/..b/c.."), "a/..b/c..");
}

TEST_F(UnpackTest, FilesDirectoriesModesAndTimes) {
  TarBuilder::Options exe;
  exe.mode = 04755;
  exe.mtime = 1600000000;
  must_unpack(TarBuilder()
                  .dir("./", 0750)
                  .dir("usr/bin")
                  .file("usr/bin/tool", "#!/bin/sh\n", exe)
                  .dir("ro", 0555)
                  .file("ro/file", "inside a read-only dir")
                  .file("implicit/parent/file", "x")
                  .build());
  EXPECT_EQ(read("usr/bin/tool"), "#!/bin/sh\n");
  auto tool = lstat_of("usr/bin/tool");
  EXPECT_EQ(tool.st_mode & 07777, 04755u);
  EXPECT_EQ(tool.st_mtim.tv_sec, 1600000000);
  EXPECT_EQ(lstat_of("ro").st_mode & 07777, 0555u);
  EXPECT_EQ(lstat_of("ro").st_mtim.tv_sec, 1700000000);  // kept although a file was added later
  EXPECT_EQ(read("ro/file"), "inside a read-only dir");
  EXPECT_EQ(lstat_of("implicit/parent").st_mode & 0777, 0755u);
  struct stat root;
  ASSERT_EQ(::stat(root_.c_str(), &root), 0);
  EXPECT_EQ(root.st_mode & 0777, 0750u);
}

TEST_F(UnpackTest, SymlinksAndHardlinks) {
  must_unpack(TarBuilder()
                  .file("bin/busybox", "bb")
                  .hardlink("bin/sh", "bin/busybox")
                  .hardlink("./bin/ls", "./bin/busybox")
                  .symlink("lib", "usr/lib")
                  .symlink("abs", "/etc/passwd")
                  .build());
  auto bb = lstat_of("bin/busybox");
  EXPECT_EQ(bb.st_nlink, 3u);
  EXPECT_EQ(lstat_of("bin/sh").st_ino, bb.st_ino);
  EXPECT_EQ(lstat_of("bin/ls").st_ino, bb.st_ino);
  char buf[64];
  ssize_t n = ::readlink((root_ + "/lib").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "usr/lib");
  n = ::readlink((root_ + "/abs").c_str(), buf, sizeof buf);
  EXPECT_EQ(std::string(buf, n > 0 ? n : 0), "/etc/passwd");  // stored as-is, never followed
}

TEST_F(UnpackTest, LaterEntriesReplaceEarlierOnes) {
  must_unpack(TarBuilder()
                  .file("a", "file first")
                  .dir("a")
                  .file("a/inner", "1")
                  .dir("b")
                  .file("b/old", "x")
                  .file("b", "dir replaced by file")
                  .symlink("c", "somewhere")
                  .file("c", "link replaced by file")
                  .dir("d", 0700)
                  .dir("d", 0711)
                  .build());
  EXPECT_TRUE(S_ISDIR(lstat_of("a").st_mode));
  EXPECT_EQ(read("a/inner"), "1");
  EXPECT_EQ(read("b"), "dir replaced by file");
  EXPECT_TRUE(S_ISREG(lstat_of("c").st_mode));
  EXPECT_EQ(lstat_of("d").st_mode & 0777, 0711u);  // the last entry's metadata wins
}

TEST_F(UnpackTest, OverlayModeRecordsWhiteoutsAndOpaqueDirs) {
  if (!user_xattrs_work()) GTEST_SKIP() << "user xattrs not supported here";
  must_unpack(TarBuilder()
                  .dir("etc")
                  .file("etc/.wh.motd", "")
                  .dir("var/cache")
                  .file("var/cache/.wh..wh..opq", "")
                  .file("var/cache/new", "n")
                  .file("keep", "mine")
                  .file(".wh.keep", "")  // a whiteout hides lower layers only
                  .file(".wh..wh.plnk", "")
                  .build());
  auto wh = lstat_of("etc/motd");
  EXPECT_TRUE(S_ISCHR(wh.st_mode));
  EXPECT_EQ(wh.st_rdev, makedev(0, 0));
  EXPECT_EQ(xattr("var/cache", "user.overlay.opaque"), "y");
  EXPECT_EQ(read("var/cache/new"), "n");
  EXPECT_EQ(read("keep"), "mine");
  EXPECT_FALSE(fs::exists(root_ + "/etc/.wh.motd"));
  EXPECT_FALSE(fs::exists(root_ + "/.wh..wh.plnk"));
}

TEST_F(UnpackTest, OverlayModeWithTrustedXattrs) {
  if (!testing::is_root()) GTEST_SKIP() << "trusted.* xattrs need CAP_SYS_ADMIN";
  opts_.overlay_xattr_prefix = "trusted.overlay.";
  must_unpack(TarBuilder().dir("d").file("d/.wh..wh..opq", "").build());
  EXPECT_EQ(xattr("d", "trusted.overlay.opaque"), "y");
}

TEST_F(UnpackTest, FlattenModeAppliesDeletions) {
  opts_.mode = LayerMode::flatten;
  must_unpack(TarBuilder()
                  .file("a/x", "lower")
                  .file("a/y", "lower")
                  .file("b/z", "lower")
                  .file("c", "lower")
                  .build());
  must_unpack(TarBuilder()
                  .dir("a")
                  .file("a/early", "upper")  // before the marker: this layer's, kept
                  .file("a/.wh..wh..opq", "")
                  .file("a/late", "upper")
                  .file(".wh.b", "")
                  .file(".wh.nothing-there", "")
                  .file("c", "upper")
                  .file(".wh.c", "")  // this layer's own c stays
                  .build());
  auto names = fs::list_dir(root_ + "/a");
  ASSERT_TRUE(names);
  std::sort(names->begin(), names->end());
  EXPECT_EQ(*names, (std::vector<std::string>{"early", "late"}));
  EXPECT_FALSE(fs::exists(root_ + "/b"));
  EXPECT_EQ(read("c"), "upper");
  EXPECT_FALSE(fs::exists(root_ + "/.wh.b"));
}

TEST_F(UnpackTest, GzipAndZstdAndDiffId) {
  TarBuilder t;
  t.file("hello", std::string(100000, 'h'));
  std::string plain = t.build();
  for (Compression c : {Compression::none, Compression::gzip, Compression::zstd}) {
    opts_.expected_diff_id = sha256_of(plain);
    auto r = unpack(t.build(c));
    ASSERT_TRUE(r) << r.error().what();
    EXPECT_EQ(r->diff_id, sha256_of(plain));
    EXPECT_EQ(r->bytes, plain.size());
    EXPECT_EQ(r->entries, 1u);
    EXPECT_EQ(read("hello").size(), 100000u);
  }
  opts_.expected_diff_id = sha256_of("other");
  auto bad = unpack(t.build(Compression::zstd));
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().what().find("layer test: uncompressed content has digest"), std::string::npos);
}

TEST_F(UnpackTest, XattrsAreRestoredButOverlayOnesDropped) {
  if (!user_xattrs_work()) GTEST_SKIP() << "user xattrs not supported here";
  TarBuilder::Options o;
  o.xattrs = {{"user.comment", "hello"}, {"user.overlay.redirect", "/etc"}, {"trusted.overlay.opaque", "y"}};
  must_unpack(TarBuilder().file("f", "x", o).build());
  EXPECT_EQ(xattr("f", "user.comment"), "hello");
  EXPECT_EQ(xattr("f", "user.overlay.redirect"), "<none>");
}

TEST_F(UnpackTest, CapabilityXattrAsRoot) {
  if (!testing::is_root()) GTEST_SKIP() << "security.capability needs root";
  // VFS_CAP_REVISION_2 with CAP_NET_RAW (13) permitted and effective.
  std::string cap("\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00", 20);
  TarBuilder::Options o;
  o.mode = 0755;
  o.uid = 0;
  o.xattrs = {{"security.capability", cap}};
  must_unpack(TarBuilder().file("ping", "elf", o).build());
  EXPECT_EQ(xattr("ping", "security.capability"), cap);  // survived the chown
}

TEST_F(UnpackTest, FifosAndDevices) {
  must_unpack(TarBuilder().fifo("run/fifo").device("dev/null", S_IFCHR, 1, 3).device("dev/sda", S_IFBLK, 8, 0).build());
  EXPECT_TRUE(S_ISFIFO(lstat_of("run/fifo").st_mode));
  EXPECT_EQ(lstat_of("run/fifo").st_mode & 0777, 0640u);
  if (!testing::is_root()) {
    EXPECT_FALSE(fs::exists(root_ + "/dev/null"));  // skipped without privilege
    return;
  }
  auto null = lstat_of("dev/null");
  EXPECT_TRUE(S_ISCHR(null.st_mode));
  EXPECT_EQ(null.st_rdev, makedev(1, 3));
  EXPECT_TRUE(S_ISBLK(lstat_of("dev/sda").st_mode));
}

TEST_F(UnpackTest, OwnershipAndShifting) {
  if (!testing::is_root()) GTEST_SKIP() << "chown to other ids needs root";
  TarBuilder::Options o;
  o.uid = 1234;
  o.gid = 5678;
  must_unpack(TarBuilder().file("owned", "x", o).symlink("link", "owned").build());
  EXPECT_EQ(lstat_of("owned").st_uid, 1234u);
  EXPECT_EQ(lstat_of("owned").st_gid, 5678u);

  opts_.id_shift = IdShift{200000, 300000, 65536};
  must_unpack(TarBuilder().file("shifted", "x", o).build());
  EXPECT_EQ(lstat_of("shifted").st_uid, 201234u);
  EXPECT_EQ(lstat_of("shifted").st_gid, 305678u);
}

TEST_F(UnpackTest, IdOutsideTheShiftIsRefused) {
  opts_.set_owner = true;
  opts_.id_shift = IdShift{200000, 200000, 1000};
  TarBuilder::Options o;
  o.uid = 1000;
  auto r = unpack(TarBuilder().file("far", "x", o).build());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "layer test: entry far: uid 1000 is outside the 1000 ids of the user namespace");
}

TEST_F(UnpackTest, NonAsciiNames) {
  must_unpack(TarBuilder().file("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac", "utf8").build());
  EXPECT_EQ(read("caf\xc3\xa9/\xe6\x97\xa5\xe6\x9c\xac"), "utf8");
}

}  // namespace
}  // namespace berth::images
