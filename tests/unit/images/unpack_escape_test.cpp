// unpack_escape_test.cpp — malicious and broken layers: nothing is ever
// written outside the target, and each refusal names the entry.
//
// The target sits at <sandbox>/t1/t2/target next to <sandbox>/outside,
// whose files stand in for the host's: an escape would land in the
// sandbox (never in the real /etc), where the tests look for it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/base/fs.h"
#include "berth/images/unpack.h"
#include "tar_builder.h"

namespace berth::images {
namespace {

using testing::Compression;
using testing::TarBuilder;

class EscapeTest : public ::testing::Test {
protected:
  void SetUp() override {
    sandbox_ = testing::make_temp_dir("escape-test");
    target_ = sandbox_ + "/t1/t2/target";
    ASSERT_TRUE(fs::mkdir_p(target_));
    ASSERT_TRUE(fs::mkdir_p(sandbox_ + "/outside"));
    ASSERT_TRUE(fs::write_file_atomic(passwd(), "original\n"));
    fd_.reset(::open(target_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    ASSERT_TRUE(fd_);
    opts_.overlay_xattr_prefix = "user.overlay.";
    opts_.set_owner = testing::is_root();
    opts_.create_devices = testing::is_root();
    before_ = outside_listing();
  }
  void TearDown() override {
    EXPECT_EQ(outside_listing(), before_) << "something was written outside the target";
    EXPECT_EQ(*fs::read_file(passwd()), "original\n");
    struct stat st;
    ASSERT_EQ(::stat(passwd().c_str(), &st), 0);
    EXPECT_EQ(st.st_nlink, 1u) << "a hardlink to an outside file was made";
    ASSERT_TRUE(testing::remove_temp_dir(sandbox_));
  }

  std::string passwd() const { return sandbox_ + "/outside/passwd"; }
  // The sandbox without the target's own tree.
  std::set<std::string> outside_listing() const {
    std::set<std::string> out;
    for (const auto& p : testing::tree_listing(sandbox_))
      if (p.rfind("t1/t2/target/", 0) != 0) out.insert(p);
    return out;
  }

  Result<UnpackStats> unpack(const std::string& bytes) {
    UniqueFd src = testing::memfd_with(bytes);
    return unpack_layer(src.get(), fd_.get(), opts_, "sha256:bad");
  }
  // Expects a refusal whose message contains `needle`.
  void refused(const std::string& bytes, const std::string& needle) {
    auto r = unpack(bytes);
    ASSERT_FALSE(r) << "accepted a layer that should fail with: " << needle;
    EXPECT_NE(r.error().what().find(needle), std::string::npos) << r.error().what();
    EXPECT_EQ(r.error().what().rfind("layer sha256:bad: ", 0), 0u) << r.error().what();
  }
  bool in_target(const std::string& rel) const { return fs::exists(target_ + "/" + rel); }

  std::string sandbox_, target_;
  UniqueFd fd_;
  UnpackOptions opts_;
  std::set<std::string> before_;
};

TEST_F(EscapeTest, DotDotEntriesAreRefused) {
  refused(TarBuilder().file("../escape", "x").build(), "entry ../escape: path has a \"..\" component");
  refused(TarBuilder().file("ok/../../../../outside/passwd", "x").build(),
          "entry ok/../../../../outside/passwd: path has a \"..\" component");
  refused(TarBuilder().dir("..").build(), "entry ../: path has a \"..\" component");
}

TEST_F(EscapeTest, AbsolutePathsAreRefused) {
  refused(TarBuilder().file(passwd(), "pwned").build(), "entry " + passwd() + ": absolute path");
  refused(TarBuilder().file("/etc/x", "pwned").build(), "entry /etc/x: absolute path");
  EXPECT_FALSE(fs::exists("/etc/x"));
}

TEST_F(EscapeTest, AbsoluteSymlinkParentResolvesInsideTheTarget) {
  // a -> / then a/<sandbox>/outside/passwd: the write lands in the target.
  auto r = unpack(TarBuilder().symlink("a", "/").file("a" + passwd(), "pwned").build());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(*fs::read_file(target_ + passwd()), "pwned");
}

TEST_F(EscapeTest, RelativeSymlinkParentResolvesInsideTheTarget) {
  // b -> ../../.. would reach the sandbox from the target; it stops at the root.
  auto r = unpack(TarBuilder().symlink("b", "../../..").file("b/x", "pwned").dir("b/newdir").build());
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_TRUE(in_target("x"));
  EXPECT_TRUE(in_target("newdir"));
  EXPECT_FALSE(fs::exists(sandbox_ + "/x"));
}

TEST_F(EscapeTest, AFileOverASymlinkReplacesTheLink) {
  auto r = unpack(TarBuilder().symlink("c", passwd()).file("c", "pwned").build());
  ASSERT_TRUE(r) << r.error().what();
  struct stat st;
  ASSERT_EQ(::lstat((target_ + "/c").c_str(), &st), 0);
  EXPECT_TRUE(S_ISREG(st.st_mode));
  // The same for every kind of entry placed over a link to outside.
  auto r2 = unpack(TarBuilder()
                       .symlink("d", sandbox_ + "/outside")
                       .dir("d")
                       .symlink("f", passwd())
                       .fifo("f")
                       .symlink("g", passwd())
                       .symlink("g", "elsewhere")
                       .build());
  ASSERT_TRUE(r2) << r2.error().what();
}

TEST_F(EscapeTest, DanglingSymlinkParentIsRefused) {
  refused(TarBuilder().symlink("e", sandbox_ + "/outside/newdir").file("e/sub", "x").build(),
          "entry e/sub: parent directory: open e (not a directory, or a dangling symlink)");
}

TEST_F(EscapeTest, HardlinksOutsideAreRefused) {
  refused(TarBuilder().hardlink("h", "../../etc/passwd").build(),
          "entry h: hardlink target ../../etc/passwd: path has a \"..\" component");
  refused(TarBuilder().hardlink("h", passwd()).build(), "entry h: hardlink target " + passwd() + ": absolute path");
  // Through a symlinked parent the target is looked up inside: not there.
  refused(TarBuilder().symlink("d", "/").hardlink("h", "d" + passwd()).build(), "entry h: hardlink target d" + passwd());
  refused(TarBuilder().symlink("u", "../../../outside").hardlink("h", "u/passwd").build(),
          "entry h: hardlink target u/passwd");
}

TEST_F(EscapeTest, HardlinkToASymlinkLinksTheSymlinkItself) {
  auto r = unpack(TarBuilder().symlink("s", passwd()).hardlink("h", "s").build());
  ASSERT_TRUE(r) << r.error().what();
  struct stat st;
  ASSERT_EQ(::lstat((target_ + "/h").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

TEST_F(EscapeTest, HardlinkToADirectoryIsRefused) {
  refused(TarBuilder().dir("dir").hardlink("h", "dir").build(), "entry h: hardlink target dir is a directory");
}

TEST_F(EscapeTest, WhiteoutsThroughSymlinksStayInside) {
  opts_.mode = LayerMode::flatten;
  auto r = unpack(TarBuilder()
                      .symlink("w", sandbox_ + "/outside")
                      .file("w/.wh.passwd", "")
                      .symlink("r", "/")
                      .file("r/.wh..wh..opq", "")
                      .build());
  ASSERT_TRUE(r) << r.error().what();
  refused(TarBuilder().file(".wh..", "").build(), "entry .wh..: whiteout names no file");
  refused(TarBuilder().file("x/.wh...", "").build(), "entry x/.wh...: whiteout names no file");
  opts_.mode = LayerMode::overlay;
  refused(TarBuilder().symlink("w2", sandbox_ + "/outside").file("w2/.wh.passwd", "").build(), "entry w2/.wh.passwd");
}

TEST_F(EscapeTest, SymlinkLoopsFail) {
  refused(TarBuilder().symlink("l1", "l2").symlink("l2", "l1").file("l1/x", "x").build(), "entry l1/x: ");
}

TEST_F(EscapeTest, SizeBombIsRefused) {
  opts_.max_bytes = 1 << 20;
  refused(TarBuilder().file("zeros", std::string(2 << 20, '\0')).build(Compression::gzip),
          "entry zeros: size 2097152 exceeds the layer limit of 1048576 bytes");
  // Many small files add up past the limit of the stream.
  TarBuilder many;
  for (int i = 0; i < 40; ++i) many.file("f" + std::to_string(i), std::string(40000, 'a'));
  refused(many.build(Compression::zstd), "layer exceeds the limit of 1048576 bytes");
}

TEST_F(EscapeTest, InodeBombIsRefused) {
  opts_.max_entries = 100;
  TarBuilder many;
  for (int i = 0; i < 150; ++i) many.file("f" + std::to_string(i), "");
  refused(many.build(Compression::gzip), "entry f100: layer has more than 100 entries");
}

TEST_F(EscapeTest, TruncatedAndCorruptLayersFail) {
  std::string gz = TarBuilder().file("big", testing::noise(1 << 20)).file("next", "n").build(Compression::gzip);
  refused(gz.substr(0, gz.size() / 2), "entry big: truncated gzip input");
  std::string small = TarBuilder().file("small", "s").build(Compression::gzip);
  refused(small.substr(0, small.size() - 10), "read: truncated gzip input");
  std::string tar = TarBuilder().file("big", std::string(300000, 'q')).build();
  refused(tar.substr(0, 100000), "entry big: read data: ");
  std::string zst = TarBuilder().file("z", std::string(300000, 'z')).build(Compression::zstd);
  zst[zst.size() / 2] ^= 0x55;
  zst[zst.size() / 2 + 1] ^= 0x55;
  refused(zst, "layer sha256:bad: ");
  refused(std::string(4096, '\x7f'), "not a tar archive: ");
  refused("", "layer sha256:bad: read: ");
}

TEST_F(EscapeTest, GarbledHeadersFail) {
  std::string tar = TarBuilder().file("a", "x").file("b", "y").build();
  tar[512 + 512 + 148] ^= 0x11;  // the second header's checksum
  refused(tar, "after entry a: ");
}

}  // namespace
}  // namespace berth::images
