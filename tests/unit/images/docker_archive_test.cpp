// docker_archive_test.cpp — `docker save` manifest.json parsing, and
// importing a tarball built here into a store.
#include <gtest/gtest.h>

#include "berth/base/fs.h"
#include "berth/images/archive.h"
#include "berth/images/image.h"
#include "tar_builder.h"

namespace berth::images {
namespace {

using testing::Compression;
using testing::TarBuilder;

std::string error_of(std::string_view text) {
  auto r = parse_docker_archive_manifest(text);
  EXPECT_FALSE(r);
  return r ? "" : r.error().what();
}

TEST(DockerArchiveManifest, Parses) {
  auto r = parse_docker_archive_manifest(R"([{"Config":"abc.json","RepoTags":["busybox:latest","b:1"],
      "Layers":["1111/layer.tar","./2222/layer.tar"]},{"Config":"blobs/sha256/cc","RepoTags":null,"Layers":[]}])");
  ASSERT_TRUE(r) << r.error().what();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].config, "abc.json");
  EXPECT_EQ((*r)[0].repo_tags, (std::vector<std::string>{"busybox:latest", "b:1"}));
  EXPECT_EQ((*r)[0].layers, (std::vector<std::string>{"1111/layer.tar", "2222/layer.tar"}));
  EXPECT_TRUE((*r)[1].repo_tags.empty());
  EXPECT_TRUE((*r)[1].layers.empty());
}

TEST(DockerArchiveManifest, ErrorsNameTheField) {
  EXPECT_EQ(error_of("{}"), "manifest.json: expected an array, got object");
  EXPECT_EQ(error_of("[]"), "manifest.json: no images");
  EXPECT_EQ(error_of(R"([{"Layers":[]}])"), "manifest.json: [0].Config: required field is missing");
  EXPECT_EQ(error_of(R"([{"Config":"c","Layers":["a","../../etc/passwd"]}])"),
            "manifest.json: [0].Layers[1]: \"../../etc/passwd\" is not a relative path inside the tarball");
  EXPECT_EQ(error_of(R"([{"Config":"/abs","Layers":[]}])"),
            "manifest.json: [0].Config: \"/abs\" is not a relative path inside the tarball");
  EXPECT_EQ(error_of(R"([{"Config":"c","Layers":"x"}])"), "manifest.json: [0].Layers: expected array, got string");
  EXPECT_EQ(error_of(R"([{"Config":"c","RepoTags":[1],"Layers":[]}])"),
            "manifest.json: [0].RepoTags[0]: expected string, got number");
}

class DockerArchiveImport : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = testing::make_temp_dir("docker-archive");
    store_.emplace(*Store::open(dir_ + "/store"));
  }
  void TearDown() override { ASSERT_TRUE(testing::remove_temp_dir(dir_)); }

  // A docker-archive with a plain and a gzip layer; the second image entry
  // reaches its layer through a symlink, as `docker save` writes repeats.
  std::string make_archive(bool wrong_diff_id = false) {
    std::string l1 = TarBuilder().dir("etc").file("etc/one", "1").build();
    std::string l2plain = TarBuilder().file("etc/two", "2").build();
    std::string l2 = TarBuilder().file("etc/two", "2").build(Compression::gzip);
    Digest d1 = sha256_of(wrong_diff_id ? "x" : l1), d2 = sha256_of(l2plain);
    std::string config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},
        "rootfs":{"type":"layers","diff_ids":[")" + d1.str() + R"(",")" + d2.str() + R"("]}})";
    std::string manifest = R"([{"Config":"cfg.json","RepoTags":["busybox:saved"],"Layers":["aa/layer.tar","bb/layer.tar"]}])";
    std::string tar = TarBuilder()
                          .file("aa/layer.tar", l1)
                          .file("bb/layer.tar", l2)
                          .symlink("cc/layer.tar", "../aa/layer.tar")
                          .file("cfg.json", config)
                          .file("manifest.json", manifest)  // last, as docker writes it
                          .build();
    std::string path = dir_ + "/saved.tar";
    EXPECT_TRUE(fs::write_file_atomic(path, tar));
    return path;
  }

  std::string dir_;
  std::optional<Store> store_;
};

TEST_F(DockerArchiveImport, ImportsAsAnOciManifest) {
  auto r = import_docker_archive(*store_, make_archive(), "");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->tag, "docker.io/library/busybox:saved");
  auto img = load_image(*store_, "busybox:saved");
  ASSERT_TRUE(img) << img.error().what();
  EXPECT_EQ(img->manifest.media_type, media_type::oci_manifest);
  ASSERT_EQ(img->manifest.layers.size(), 2u);
  EXPECT_EQ(img->manifest.layers[0].media_type, media_type::oci_layer);
  EXPECT_EQ(img->manifest.layers[1].media_type, media_type::oci_layer_gzip);
  EXPECT_EQ(img->manifest.layers[0].digest, img->config.diff_ids[0]);
  ASSERT_TRUE(img->descriptor.platform);
  EXPECT_EQ(img->descriptor.platform->architecture, "amd64");
  UnpackOptions o;
  o.set_owner = testing::is_root();
  std::string root = dir_ + "/rootfs";
  ASSERT_TRUE(unpack_rootfs(*store_, *img, root, o));
  EXPECT_EQ(*fs::read_file(root + "/etc/one"), "1");
  EXPECT_EQ(*fs::read_file(root + "/etc/two"), "2");
}

TEST_F(DockerArchiveImport, ExplicitTagAndMismatchedDiffId) {
  auto r = import_docker_archive(*store_, make_archive(), "mine:1");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->tag, "mine:1");
  std::string bad = make_archive(true);
  auto e = import_docker_archive(*store_, bad, "x:1");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().what().find("import docker archive " + bad + ": Layers[0] aa/layer.tar: content has digest"),
            std::string::npos)
      << e.error().what();
}

TEST_F(DockerArchiveImport, MissingManifestIsNamed) {
  std::string path = dir_ + "/empty.tar";
  ASSERT_TRUE(fs::write_file_atomic(path, TarBuilder().file("x", "y").build()));
  auto e = import_docker_archive(*store_, path, "x:1");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().what().find("manifest.json: \"manifest.json\" is not a file in the tarball"), std::string::npos)
      << e.error().what();
}

}  // namespace
}  // namespace berth::images
