// build_test.cpp — write_layer, pack_tree and add_image: trees packed
// into layers (overlay whiteouts translated back to OCI ones) and through
// a pipe, images built on a base, and parse_size.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "berth/base/fs.h"
#include "berth/images/build.h"
#include "berth/images/disk.h"
#include "berth/images/image.h"
#include "layer_writer.h"
#include "tar_builder.h"

namespace berth::images {
namespace {

using testing::TarBuilder;

struct Entry {
  std::string type;  // "file", "dir", "symlink", "hardlink"
  std::string data;  // content, link target
  int64_t uid = 0;
};

// Reads a stored layer back: path -> entry.
std::map<std::string, Entry> read_layer(const Store& store, const Digest& d) {
  std::map<std::string, Entry> out;
  auto blob = store.read_blob(d, 64u << 20);
  EXPECT_TRUE(blob);
  archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_tar(a);
  EXPECT_EQ(archive_read_open_memory(a, blob->data(), blob->size()), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
    Entry x;
    x.uid = archive_entry_uid(e);
    if (archive_entry_hardlink(e)) {
      x.type = "hardlink";
      x.data = archive_entry_hardlink(e);
    } else if (archive_entry_filetype(e) == AE_IFDIR) {
      x.type = "dir";
    } else if (archive_entry_filetype(e) == AE_IFLNK) {
      x.type = "symlink";
      x.data = archive_entry_symlink(e);
    } else {
      x.type = "file";
      char buf[4096];
      la_ssize_t n;
      while ((n = archive_read_data(a, buf, sizeof buf)) > 0) x.data.append(buf, static_cast<size_t>(n));
    }
    std::string path = archive_entry_pathname(e);
    if (!path.empty() && path.back() == '/') path.pop_back();
    out[path] = x;
  }
  archive_read_free(a);
  return out;
}

class BuildTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("build");
    store_.emplace(*Store::open(dir_ + "/store"));
    tree_ = dir_ + "/tree";
    ASSERT_TRUE(fs::mkdir_p(tree_ + "/etc/conf.d"));
    ASSERT_TRUE(fs::write_file_atomic(tree_ + "/etc/conf.d/a", "alpha"));
    ASSERT_EQ(::symlink("conf.d/a", (tree_ + "/etc/link").c_str()), 0);
    ASSERT_EQ(::link((tree_ + "/etc/conf.d/a").c_str(), (tree_ + "/etc/hard").c_str()), 0);
  }
  void TearDown() override { ASSERT_TRUE(testing::remove_temp_dir(dir_)); }

  std::string dir_, tree_;
  std::optional<Store> store_;
};

TEST_F(BuildTest, PacksTreeWithLinks) {
  auto l = write_layer(*store_, LayerSource{tree_, false, std::nullopt});
  ASSERT_TRUE(l) << l.error().what();
  EXPECT_EQ(l->descriptor.media_type, media_type::oci_layer_gzip);
  EXPECT_TRUE(store_->has_blob(l->descriptor.digest));
  auto e = read_layer(*store_, l->descriptor.digest);
  EXPECT_EQ(e.count(""), 0u);  // the root itself is not an entry
  EXPECT_EQ(e["etc"].type, "dir");
  EXPECT_EQ(e["etc/link"].type, "symlink");
  EXPECT_EQ(e["etc/link"].data, "conf.d/a");
  // One of the two names is the file, the other a hard link to it.
  bool a_is_link = e["etc/conf.d/a"].type == "hardlink", hard_is_link = e["etc/hard"].type == "hardlink";
  EXPECT_NE(a_is_link, hard_is_link);
  EXPECT_EQ(a_is_link ? e["etc/hard"].data : e["etc/conf.d/a"].data, "alpha");
  EXPECT_EQ(a_is_link ? e["etc/conf.d/a"].data : e["etc/hard"].data, a_is_link ? "etc/hard" : "etc/conf.d/a");
  // The diff_id is the uncompressed stream's digest: unpacking checks it.
  UnpackOptions o;
  o.set_owner = ::geteuid() == 0;
  o.create_devices = false;
  auto unpacked = store_->unpack_layer(l->descriptor, l->diff_id, o);
  ASSERT_TRUE(unpacked) << unpacked.error().what();
  EXPECT_EQ(*fs::read_file(*unpacked + "/etc/hard"), "alpha");
}

// Neither side seeks: the tree goes through a pipe and out again, and no
// tree at all is an empty archive that unpacks to nothing.
TEST_F(BuildTest, PackTreeStreamsThroughAPipe) {
  UnpackOptions o;
  o.set_owner = ::geteuid() == 0;
  o.create_devices = false;
  o.mode = LayerMode::flatten;
  const LayerSource src{tree_, false, std::nullopt};
  for (const LayerSource* s : {&src, static_cast<const LayerSource*>(nullptr)}) {
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    UniqueFd rd(p[0]), wr(p[1]);
    Result<PackedTar> packed = Error::msg("not run");
    std::thread writer([&] {
      packed = pack_tree(s, wr.get(), 1);
      wr.reset();
    });
    std::string out = dir_ + (s ? "/out" : "/out-empty");
    ASSERT_TRUE(fs::mkdir_p(out));
    UniqueFd target(::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    auto got = unpack_layer(rd.get(), target.get(), o, "pipe");
    rd.reset();  // a reader that gave up must not leave the writer blocked
    writer.join();
    ASSERT_TRUE(packed) << packed.error().what();
    ASSERT_TRUE(got) << got.error().what();
    EXPECT_EQ(got->entries, packed->entries);
    EXPECT_EQ(got->bytes, packed->tar_bytes);
    EXPECT_EQ(got->diff_id, packed->diff_id);
    if (s) {
      EXPECT_EQ(*fs::read_file(out + "/etc/hard"), "alpha");
      EXPECT_EQ(*fs::read_file(out + "/etc/link"), "alpha");
    } else {
      EXPECT_EQ(packed->entries, 0u);
      EXPECT_TRUE(fs::list_dir(out)->empty());
    }
  }
}

TEST_F(BuildTest, ImageOnBaseExtendsConfig) {
  auto base_layer = write_layer(*store_, LayerSource{tree_, false, std::nullopt});
  ASSERT_TRUE(base_layer);
  NewImage spec;
  spec.entrypoint = {"/sbin/init"};
  spec.stop_signal = "SIGUSR2";
  spec.labels = {{"org.berth.init", "busybox"}};
  auto base = add_image(*store_, *base_layer, spec, "base:1");
  ASSERT_TRUE(base) << base.error().what();

  ASSERT_TRUE(fs::write_file_atomic(dir_ + "/top", "x"));
  ASSERT_TRUE(fs::mkdir_p(dir_ + "/upper"));
  ASSERT_TRUE(fs::write_file_atomic(dir_ + "/upper/new", "new"));
  auto top = write_layer(*store_, LayerSource{dir_ + "/upper", true, std::nullopt});
  ASSERT_TRUE(top);
  NewImage child;
  child.base = base->digest;
  child.created_by = "test";
  auto d = add_image(*store_, *top, child, "child:1");
  ASSERT_TRUE(d) << d.error().what();
  auto img = load_image(*store_, "child:1");
  ASSERT_TRUE(img) << img.error().what();
  ASSERT_EQ(img->manifest.layers.size(), 2u);
  EXPECT_EQ(img->manifest.layers[0].digest, base_layer->descriptor.digest);
  ASSERT_EQ(img->config.diff_ids.size(), 2u);
  EXPECT_EQ(img->config.diff_ids[1], top->diff_id);
  // The base's process settings and labels are kept.
  ASSERT_EQ(img->config.entrypoint.size(), 1u);
  EXPECT_EQ(img->config.entrypoint[0], "/sbin/init");
  EXPECT_EQ(img->config.stop_signal, "SIGUSR2");
  ASSERT_EQ(img->config.labels.size(), 1u);
  EXPECT_EQ(img->config.labels[0].second, "busybox");
}

// Root only: overlayfs's whiteout devices and opaque xattrs become OCI
// whiteouts, and shifted owners are shifted back.
TEST_F(BuildTest, OverlayUpperBecomesOciWhiteouts) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root (mknod, trusted.* xattrs)";
  std::string up = dir_ + "/up";
  ASSERT_TRUE(fs::mkdir_p(up + "/etc"));
  ASSERT_TRUE(fs::mkdir_p(up + "/var"));
  ASSERT_EQ(::mknod((up + "/etc/gone").c_str(), S_IFCHR | 0, makedev(0, 0)), 0);
  ASSERT_EQ(::setxattr((up + "/var").c_str(), "trusted.overlay.opaque", "y", 1, 0), 0);
  ASSERT_TRUE(fs::write_file_atomic(up + "/var/fresh", "f"));
  ASSERT_EQ(::chown((up + "/var/fresh").c_str(), 100042, 100042), 0);
  ASSERT_EQ(::chown(up.c_str(), 100000, 100000), 0);
  // etc/gone stays root's, outside the range: overlayfs makes whiteouts
  // as the mounter, and their owner is not packed.
  for (const char* p : {"/etc", "/var"}) ASSERT_EQ(::lchown((up + p).c_str(), 100000, 100000), 0);
  auto l = write_layer(*store_, LayerSource{up, true, IdShift{100000, 100000, 65536}});
  ASSERT_TRUE(l) << l.error().what();
  auto e = read_layer(*store_, l->descriptor.digest);
  EXPECT_EQ(e.count("etc/gone"), 0u);
  EXPECT_EQ(e.count("etc/.wh.gone"), 1u);
  EXPECT_EQ(e.count("var/.wh..wh..opq"), 1u);
  EXPECT_EQ(e["var/fresh"].uid, 42);
  EXPECT_EQ(e["var"].uid, 0);

  // An owner outside the range is an error naming the entry.
  ASSERT_EQ(::chown((up + "/var/fresh").c_str(), 7, 7), 0);
  auto bad = write_layer(*store_, LayerSource{up, true, IdShift{100000, 100000, 65536}});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().what().find("entry var/fresh: uid 7 is outside"), std::string::npos) << bad.error().what();
}

TEST(ParseSize, UnitsAndErrors) {
  EXPECT_EQ(*parse_size("10G", "size"), 10ull << 30);
  EXPECT_EQ(*parse_size("512M", "size"), 512ull << 20);
  EXPECT_EQ(*parse_size("1T", "size"), 1ull << 40);
  EXPECT_EQ(*parse_size("4096", "size"), 4096u);
  EXPECT_EQ(*parse_size("64KiB", "size"), 64u << 10);
  for (const char* bad : {"", "G", "10Q", "-1", "99999999999999999999", "16777216T"}) {
    auto r = parse_size(bad, "--size");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().what().rfind("--size:", 0), 0u) << r.error().what();
  }
}

}  // namespace
}  // namespace berth::images
