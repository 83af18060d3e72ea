// overlay_test.cpp — the overlay layout the unpacker writes (whiteout
// devices, opaque xattrs) is what overlayfs reads: two layers from the
// store are mounted and the merged view is checked, for a privileged mount
// (trusted.overlay.*) and a userxattr one (user.overlay.*).
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "berth/base/fs.h"
#include "berth/images/store.h"
#include "tar_builder.h"

namespace berth::images {
namespace {

using testing::Compression;
using testing::TarBuilder;

struct Layer {
  Descriptor desc;
  Digest diff_id;
};

Layer put_layer(const Store& s, const TarBuilder& t) {
  Layer l;
  std::string gz = t.build(Compression::gzip);
  l.diff_id = sha256_of(t.build());
  l.desc.media_type = std::string(media_type::oci_layer_gzip);
  l.desc.digest = *s.put_blob(gz);
  l.desc.size = gz.size();
  return l;
}

class OverlayTest : public ::testing::TestWithParam<const char*> {
protected:
  static void SetUpTestSuite() {
    if (!testing::is_root()) return;
    // Mounts made here vanish with the test process.
    ASSERT_EQ(::unshare(CLONE_NEWNS), 0);
    ASSERT_EQ(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0);
  }
  void SetUp() override {
    if (!testing::is_root()) GTEST_SKIP() << "mounting overlayfs needs root";
    dir_ = testing::make_temp_dir("overlay-test");
  }
  void TearDown() override {
    if (dir_.empty()) return;
    ::umount2((dir_ + "/merged").c_str(), MNT_DETACH);
    EXPECT_TRUE(testing::remove_temp_dir(dir_));
  }
  std::vector<std::string> names(const std::string& rel) {
    auto n = fs::list_dir(dir_ + "/merged/" + rel);
    EXPECT_TRUE(n) << rel;
    std::sort(n->begin(), n->end());
    return *n;
  }
  std::string dir_;
};

TEST_P(OverlayTest, MergedViewHonoursWhiteoutsAndOpaqueDirs) {
  std::string prefix = GetParam();
  auto store = Store::open(dir_ + "/store");
  ASSERT_TRUE(store) << store.error().what();
  Layer lower = put_layer(*store, TarBuilder()
                                      .dir("etc")
                                      .file("etc/gone", "1")
                                      .file("etc/kept", "1")
                                      .file("var/cache/old1", "1")
                                      .file("var/cache/old2", "1")
                                      .file("usr/bin/tool", "v1")
                                      .dir("olddir")
                                      .file("olddir/f", "1"));
  Layer upper = put_layer(*store, TarBuilder()
                                      .file("etc/.wh.gone", "")
                                      .dir("var/cache")
                                      .file("var/cache/.wh..wh..opq", "")
                                      .file("var/cache/new", "2")
                                      .file("usr/bin/tool", "v2")
                                      .file(".wh.olddir", "")
                                      .symlink("lib", "usr/lib"));
  UnpackOptions o;
  o.overlay_xattr_prefix = prefix;
  auto l1 = store->unpack_layer(lower.desc, lower.diff_id, o);
  auto l2 = store->unpack_layer(upper.desc, upper.diff_id, o);
  ASSERT_TRUE(l1) << l1.error().what();
  ASSERT_TRUE(l2) << l2.error().what();

  std::string merged = dir_ + "/merged";
  ASSERT_TRUE(fs::mkdir_p(merged));
  std::string opts = "lowerdir=" + *l2 + ":" + *l1;
  if (prefix == "user.overlay.") opts += ",userxattr";
  ASSERT_EQ(::mount("overlay", merged.c_str(), "overlay", MS_RDONLY, opts.c_str()), 0) << std::strerror(errno);

  EXPECT_EQ(names("etc"), (std::vector<std::string>{"kept"}));
  EXPECT_EQ(names("var/cache"), (std::vector<std::string>{"new"}));
  EXPECT_EQ(*fs::read_file(merged + "/usr/bin/tool"), "v2");
  EXPECT_FALSE(fs::exists(merged + "/olddir"));
  EXPECT_EQ(names(""), (std::vector<std::string>{"etc", "lib", "usr", "var"}));
}

INSTANTIATE_TEST_SUITE_P(Prefixes, OverlayTest, ::testing::Values("trusted.overlay.", "user.overlay."));

}  // namespace
}  // namespace berth::images
