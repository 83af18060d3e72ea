// gc_test.cpp — unpacked layers in the store and mark-and-sweep collection.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "berth/base/fs.h"
#include "berth/images/manifest.h"
#include "berth/images/store.h"
#include "tar_builder.h"

namespace berth::images {
namespace {

using testing::Compression;
using testing::make_temp_dir;
using testing::TarBuilder;

struct Image {
  Descriptor manifest;
  Descriptor layer;
  Digest diff_id;
};

class GcTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = make_temp_dir("gc-test");
    auto s = Store::open(dir_);
    ASSERT_TRUE(s) << s.error().what();
    store_.emplace(std::move(*s));
    opts_.overlay_xattr_prefix = "user.overlay.";
    opts_.set_owner = testing::is_root();
  }
  void TearDown() override { ASSERT_TRUE(testing::remove_temp_dir(dir_)); }

  Image add_image(const std::string& name, const std::string& content) {
    Image img;
    std::string tar = TarBuilder().dir("etc", 0555).file("etc/" + name, content).build();
    std::string gz = TarBuilder().dir("etc", 0555).file("etc/" + name, content).build(Compression::gzip);
    img.diff_id = sha256_of(tar);
    img.layer.media_type = std::string(media_type::oci_layer_gzip);
    img.layer.digest = *store_->put_blob(gz);
    img.layer.size = gz.size();
    std::string config = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
                         img.diff_id.str() + "\"]}}";
    Descriptor cfg;
    cfg.media_type = std::string(media_type::oci_config);
    cfg.digest = *store_->put_blob(config);
    cfg.size = config.size();
    json::Value m = json::Value::object();
    m.set("schemaVersion", 2);
    m.set("mediaType", media_type::oci_manifest);
    m.set("config", descriptor_to_json(cfg));
    json::Value layers = json::Value::array();
    layers.push_back(descriptor_to_json(img.layer));
    m.set("layers", std::move(layers));
    std::string body = json::dump(m);
    img.manifest.media_type = std::string(media_type::oci_manifest);
    img.manifest.digest = *store_->put_blob(body);
    img.manifest.size = body.size();
    return img;
  }

  size_t count(const std::string& sub) { return fs::list_dir(store_->root() + "/" + sub)->size(); }

  std::string dir_;
  std::optional<Store> store_;
  UnpackOptions opts_;
};

TEST_F(GcTest, UnpackLayerOnceAndShareIt) {
  Image img = add_image("hostname", "box\n");
  auto p = store_->unpack_layer(img.layer, img.diff_id, opts_);
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_EQ(*p, store_->layer_path(img.diff_id));
  EXPECT_EQ(*fs::read_file(*p + "/etc/hostname"), "box\n");
  struct stat st;
  ASSERT_EQ(::stat((*p + "/etc").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0555u);
  ASSERT_EQ(::stat(p->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);  // no "./" entry: a usable root
  auto again = store_->unpack_layer(img.layer, img.diff_id, opts_);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again, *p);
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(GcTest, WrongDiffIdLeavesNoLayer) {
  Image img = add_image("a", "a");
  auto p = store_->unpack_layer(img.layer, sha256_of("not it"), opts_);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().what().find("expected diff_id " + sha256_of("not it").str()), std::string::npos)
      << p.error().what();
  EXPECT_EQ(count("layers/sha256"), 0u);
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(GcTest, TruncatedLayerLeavesNothing) {
  std::string gz = TarBuilder().file("big", testing::noise(1 << 20)).build(Compression::gzip);
  gz.resize(gz.size() / 2);
  Descriptor layer;
  layer.media_type = std::string(media_type::oci_layer_gzip);
  layer.digest = *store_->put_blob(gz);
  layer.size = gz.size();
  auto p = store_->unpack_layer(layer, sha256_of("x"), opts_);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().what().find("layer " + layer.digest.str() + ": entry big: truncated gzip input"), std::string::npos)
      << p.error().what();
  EXPECT_EQ(count("layers/sha256"), 0u);
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(GcTest, CollectsOnlyWhatNothingReaches) {
  Image kept = add_image("kept", "1");
  Image held = add_image("held", "2");
  Image dropped = add_image("dropped", "3");
  for (const Image* i : {&kept, &held, &dropped}) ASSERT_TRUE(store_->unpack_layer(i->layer, i->diff_id, opts_));
  ASSERT_TRUE(store_->tag("kept:1", kept.manifest));
  ASSERT_TRUE(store_->hold("container-7", held.manifest.digest));
  ASSERT_TRUE(fs::mkdir_p(store_->root() + "/tmp/layer-stale/x"));  // a crashed unpack
  ASSERT_TRUE(fs::write_file_atomic(store_->root() + "/index.json.tmp.99999", "{"));  // a crashed tag

  auto st = store_->gc();
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(st->blobs_removed, 3u);  // dropped's manifest, config and layer
  EXPECT_EQ(st->layers_removed, 1u);
  EXPECT_EQ(st->temps_removed, 2u);
  EXPECT_GT(st->bytes_removed, 0u);
  for (const Image* i : {&kept, &held}) {
    EXPECT_TRUE(store_->has_blob(i->manifest.digest));
    EXPECT_TRUE(store_->has_blob(i->layer.digest));
    EXPECT_TRUE(store_->has_layer(i->diff_id));
  }
  EXPECT_FALSE(store_->has_blob(dropped.manifest.digest));
  EXPECT_FALSE(store_->has_layer(dropped.diff_id));

  ASSERT_TRUE(store_->release("container-7"));
  ASSERT_TRUE(store_->untag("kept:1"));
  ASSERT_TRUE(store_->gc());
  EXPECT_EQ(count("blobs/sha256"), 0u);
  EXPECT_EQ(count("layers/sha256"), 0u);
}

TEST_F(GcTest, ShiftedLayersAreKeptWithTheirImage) {
  Image img = add_image("f", "x");
  UnpackOptions o = opts_;
  o.id_shift = IdShift{100000, 100000, 65536};
  o.set_owner = testing::is_root();
  auto p = store_->unpack_layer(img.layer, img.diff_id, o);
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_EQ(*p, store_->root() + "/layers/sha256/" + img.diff_id.hex() + "-100000-100000-65536");
  if (testing::is_root()) {
    struct stat st;
    ASSERT_EQ(::stat((*p + "/etc/f").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 100000u);
    EXPECT_EQ(st.st_gid, 100000u);
  }
  ASSERT_TRUE(store_->tag("f:1", img.manifest));
  ASSERT_TRUE(store_->gc());
  EXPECT_TRUE(store_->has_layer(img.diff_id, o.id_shift));
}

TEST_F(GcTest, UnparsableManifestStopsTheCollection) {
  auto bad = store_->put_blob("{\"schemaVersion\":2,\"layers\":7}");
  ASSERT_TRUE(bad);
  Descriptor d;
  d.media_type = std::string(media_type::oci_manifest);
  d.digest = *bad;
  ASSERT_TRUE(store_->tag("broken:1", d));
  auto junk = store_->put_blob("junk");
  auto st = store_->gc();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("blob " + bad->str() + ": manifest: "), std::string::npos) << st.error().what();
  EXPECT_TRUE(store_->has_blob(*junk));  // nothing was swept
}

}  // namespace
}  // namespace berth::images
