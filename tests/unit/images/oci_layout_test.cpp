// oci_layout_test.cpp — export to and import from OCI layout directories.
#include <gtest/gtest.h>

#include "berth/base/fs.h"
#include "berth/images/archive.h"
#include "berth/images/image.h"
#include "tar_builder.h"

namespace berth::images {
namespace {

using testing::TarBuilder;

class OciLayoutTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("oci-layout");
    a_.emplace(*Store::open(dir_ + "/a"));
    b_.emplace(*Store::open(dir_ + "/b"));
    // One image with one layer, tagged "img:1" in store a.
    std::string layer = TarBuilder().file("hello", "world").build(testing::Compression::gzip);
    std::string plain = TarBuilder().file("hello", "world").build();
    Descriptor l{std::string(media_type::oci_layer_gzip), *a_->put_blob(layer), layer.size()};
    std::string cfg = R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
                      sha256_of(plain).str() + R"("]}})";
    Descriptor c{std::string(media_type::oci_config), *a_->put_blob(cfg), cfg.size()};
    std::string m = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":)" +
                    json::dump(descriptor_to_json(c)) + R"(,"layers":[)" + json::dump(descriptor_to_json(l)) + "]}";
    manifest_ = Descriptor{std::string(media_type::oci_manifest), *a_->put_blob(m), m.size()};
    layer_ = l.digest;
    EXPECT_TRUE(a_->tag("img:1", manifest_));
  }
  void TearDown() override { ASSERT_TRUE(testing::remove_temp_dir(dir_)); }

  std::string dir_;
  std::optional<Store> a_, b_;
  Descriptor manifest_;
  Digest layer_;
};

TEST_F(OciLayoutTest, ExportThenImport) {
  std::string out = dir_ + "/out";
  ASSERT_TRUE(export_oci_layout(*a_, "img:1", out));
  auto ix = parse_index(*fs::read_file(out + "/index.json"));
  ASSERT_TRUE(ix);
  ASSERT_EQ(ix->manifests.size(), 1u);
  EXPECT_EQ(*ix->manifests[0].annotation(ref_name_annotation), "1");  // the tag part of the reference
  EXPECT_TRUE(fs::exists(out + "/blobs/sha256/" + layer_.hex()));
  // A second export under another name adds an entry.
  ASSERT_TRUE(export_oci_layout(*a_, "img:1", out, "other"));
  EXPECT_EQ(parse_index(*fs::read_file(out + "/index.json"))->manifests.size(), 2u);

  auto r = import_oci_layout(*b_, out, "other", "copied:1");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->manifest.digest, manifest_.digest);
  auto img = load_image(*b_, "copied:1");
  ASSERT_TRUE(img) << img.error().what();
  EXPECT_EQ(img->manifest.layers[0].digest, layer_);
}

TEST_F(OciLayoutTest, ImportVerifiesBlobs) {
  std::string out = dir_ + "/out";
  ASSERT_TRUE(export_oci_layout(*a_, "img:1", out));
  std::string blob = out + "/blobs/sha256/" + layer_.hex();
  std::string bytes = *fs::read_file(blob);
  bytes[bytes.size() / 2] ^= 0x55;
  ASSERT_TRUE(fs::write_file_atomic(blob, bytes));
  auto r = import_oci_layout(*b_, out, "", "x:1");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("layer 0: store blob " + layer_.str() + ": content has digest"), std::string::npos)
      << r.error().what();
  EXPECT_FALSE(b_->has_blob(layer_));
}

TEST_F(OciLayoutTest, ImportErrorsNameTheEntry) {
  std::string out = dir_ + "/out";
  ASSERT_TRUE(export_oci_layout(*a_, "img:1", out));
  auto r = import_oci_layout(*b_, out, "nope", "x:1");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().what(), "import OCI layout " + out + ": index.json: no entry named \"nope\" (names: 1): No such file or directory");
  auto missing = import_oci_layout(*b_, dir_ + "/none", "", "x:1");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().what().find(dir_ + "/none/oci-layout"), std::string::npos);
}

}  // namespace
}  // namespace berth::images
