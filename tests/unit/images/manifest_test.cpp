// manifest_test.cpp — manifest, index and config parsing; platform choice.
#include "berth/images/manifest.h"

#include <gtest/gtest.h>

namespace berth::images {
namespace {

std::string hex(char c) { return std::string(64, c); }
std::string dg(char c) { return "sha256:" + hex(c); }

std::string oci_manifest(const std::string& layers_json) {
  return R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" + dg('c') + R"(","size":7},
    "layers":)" + layers_json + R"(,"annotations":{"a":"b"}})";
}

std::string layer(char c, const char* mt = "application/vnd.oci.image.layer.v1.tar+gzip") {
  return std::string(R"({"mediaType":")") + mt + R"(","digest":")" + dg(c) + R"(","size":100})";
}

std::string expect_error(const Result<Manifest>& r) {
  EXPECT_FALSE(r);
  return r ? "" : r.error().what();
}

TEST(Manifest, ParsesOci) {
  auto m = parse_manifest(oci_manifest("[" + layer('1') + "," + layer('2') + "]"));
  ASSERT_TRUE(m) << m.error().what();
  EXPECT_EQ(m->media_type, media_type::oci_manifest);
  EXPECT_EQ(m->config.digest.hex(), hex('c'));
  EXPECT_EQ(m->config.size, 7u);
  ASSERT_EQ(m->layers.size(), 2u);
  EXPECT_EQ(m->layers[1].digest.hex(), hex('2'));
  ASSERT_EQ(m->annotations.size(), 1u);
  EXPECT_TRUE(check_image_manifest(*m));
}

TEST(Manifest, ParsesDockerSchema2) {
  std::string text = R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",
    "config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":")" + dg('c') + R"(","size":1},
    "layers":[)" + layer('1', "application/vnd.docker.image.rootfs.diff.tar.gzip") + "]}";
  auto m = parse_manifest(text, "application/vnd.docker.distribution.manifest.v2+json; charset=utf-8");
  ASSERT_TRUE(m) << m.error().what();
  EXPECT_EQ(m->media_type, media_type::docker_manifest);
  EXPECT_TRUE(check_image_manifest(*m));
}

TEST(Manifest, MediaTypeFromContentTypeWhenAbsent) {
  std::string text = R"({"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                     dg('c') + R"(","size":1},"layers":[]})";
  auto m = parse_manifest(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->media_type, media_type::oci_manifest);
}

TEST(Manifest, ErrorsNameTheField) {
  EXPECT_EQ(expect_error(parse_manifest(oci_manifest("[" + layer('1') + R"(,{"mediaType":"x","digest":"sha256:abc","size":1}])"))),
            "manifest: layers[1].digest: expected 64 lowercase hex digits after \"sha256:\", got \"abc\"");
  EXPECT_EQ(expect_error(parse_manifest(oci_manifest("[" + layer('1') + R"(,{"mediaType":"x","digest":")" + dg('2') + R"(","size":-1}])"))),
            "manifest: layers[1].size: expected non-negative integer, got number");
  EXPECT_EQ(expect_error(parse_manifest(oci_manifest("{}"))), "manifest: layers: expected array, got object");
  EXPECT_EQ(expect_error(parse_manifest(R"({"schemaVersion":1})")),
            "manifest: schemaVersion: expected 2, got 1 (Docker schema 1 images are not supported)");
  EXPECT_EQ(expect_error(parse_manifest(R"({"schemaVersion":2,"layers":[]})")), "manifest: config: required field is missing");
  EXPECT_NE(expect_error(parse_manifest("[1,2")).find("manifest: "), std::string::npos);
}

TEST(Manifest, ServedTypeMustAgree) {
  auto m = parse_manifest(oci_manifest("[]"), media_type::docker_manifest);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().what().find("manifest: mediaType: document says"), std::string::npos);
  auto ix = parse_manifest(oci_manifest("[]"), media_type::oci_index);
  EXPECT_FALSE(ix);
}

TEST(Manifest, ArtifactIsNotAnImage) {
  auto m = parse_manifest(oci_manifest("[" + layer('1', "application/vnd.cncf.helm.chart.content.v1.tar+gzip") + "]"));
  ASSERT_TRUE(m);
  auto st = check_image_manifest(*m);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("layers[0].mediaType"), std::string::npos);
}

std::string entry(char c, const std::string& platform) {
  return R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" + dg(c) + R"(","size":5,"platform":)" +
         platform + "}";
}

TEST(Index, ParsesAndSelectsPlatform) {
  std::string text = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[)" +
                     entry('1', R"({"os":"linux","architecture":"arm","variant":"v7"})") + "," +
                     entry('2', R"({"os":"linux","architecture":"arm64","variant":"v8"})") + "," +
                     entry('3', R"({"os":"linux","architecture":"amd64","variant":"v3"})") + "," +
                     entry('4', R"({"os":"linux","architecture":"amd64"})") + "," +
                     entry('5', R"({"os":"unknown","architecture":"unknown"})") + "]}";
  auto ix = parse_index(text);
  ASSERT_TRUE(ix) << ix.error().what();
  ASSERT_EQ(ix->manifests.size(), 5u);

  auto pick = [&](Platform p) { return select_platform(*ix, p); };
  EXPECT_EQ(pick({"linux", "x86_64"})->digest.hex(), hex('4'));  // plain amd64 beats amd64/v3
  EXPECT_EQ(pick({"linux", "amd64", "v3"})->digest.hex(), hex('3'));
  EXPECT_EQ(pick({"linux", "aarch64"})->digest.hex(), hex('2'));  // aarch64 = arm64/v8
  EXPECT_EQ(pick({"linux", "armhf"})->digest.hex(), hex('1'));
  auto none = pick({"linux", "s390x"});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().what(),
            "index: no manifest for platform linux/s390x (offered: linux/arm/v7, linux/arm64/v8, linux/amd64/v3, "
            "linux/amd64, unknown/unknown)");
}

TEST(Index, DockerManifestListAndErrors) {
  std::string list = R"({"schemaVersion":2,
    "mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",
    "manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":")" +
                     dg('1') + R"(","size":5,"platform":{"os":"linux","architecture":"amd64"}}]})";
  auto ix = parse_index(list);
  ASSERT_TRUE(ix) << ix.error().what();
  EXPECT_EQ(ix->media_type, media_type::docker_manifest_list);

  auto bad = parse_index(R"({"schemaVersion":2,"manifests":[{"mediaType":"x","digest":")" + dg('1') +
                         R"(","size":1,"platform":{"os":"linux"}}]})");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().what(), "index: manifests[0].platform.architecture: required field is missing");
  auto notix = parse_index(oci_manifest("[]"));
  ASSERT_FALSE(notix);
  EXPECT_NE(notix.error().what().find("is not an image index type"), std::string::npos);
}

TEST(Index, SingleEntryWithoutPlatformIsChosen) {
  auto ix = parse_index(R"({"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                        dg('1') + R"(","size":1}]})");
  ASSERT_TRUE(ix);
  EXPECT_TRUE(select_platform(*ix, host_platform()));
}

TEST(Kind, DetectsByTypeAndShape) {
  EXPECT_EQ(*detect_kind(oci_manifest("[]")), DocumentKind::manifest);
  EXPECT_EQ(*detect_kind(R"({"schemaVersion":2,"manifests":[]})"), DocumentKind::index);
  EXPECT_EQ(*detect_kind(R"({"schemaVersion":2})", media_type::docker_manifest_list), DocumentKind::index);
  EXPECT_FALSE(detect_kind(R"({"schemaVersion":2})"));
  EXPECT_FALSE(detect_kind(R"({"mediaType":"text/plain"})"));
}

const char* kConfig = R"({
  "architecture": "amd64", "os": "linux",
  "config": {"User": "1000:1000", "Env": ["PATH=/usr/bin"], "Entrypoint": null, "Cmd": ["sh"],
             "WorkingDir": "/srv", "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}},
             "Labels": {"k": "v"}, "StopSignal": "SIGTERM"},
  "rootfs": {"type": "layers", "diff_ids": ["sha256:1111111111111111111111111111111111111111111111111111111111111111",
                                           "sha256:2222222222222222222222222222222222222222222222222222222222222222"]},
  "history": [{"created_by": "x"}]
})";

TEST(Config, Parses) {
  auto c = parse_config(kConfig);
  ASSERT_TRUE(c) << c.error().what();
  EXPECT_EQ(c->platform.str(), "linux/amd64");
  EXPECT_EQ(c->user, "1000:1000");
  EXPECT_TRUE(c->entrypoint.empty());
  EXPECT_EQ(c->cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(c->working_dir, "/srv");
  EXPECT_EQ(c->exposed_ports, std::vector<std::string>{"80/tcp"});
  EXPECT_EQ(c->volumes, std::vector<std::string>{"/data"});
  ASSERT_EQ(c->diff_ids.size(), 2u);
  EXPECT_EQ(c->diff_ids[1].hex(), hex('2'));

  auto m = parse_manifest(oci_manifest("[" + layer('1') + "]"));
  ASSERT_TRUE(m);
  auto st = check_config(*m, *c);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().what(), "config: rootfs.diff_ids has 2 entries but the manifest has 1 layers");
}

TEST(Config, ErrorsNameTheField) {
  auto c = parse_config(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:12"]}})");
  ASSERT_FALSE(c);
  EXPECT_NE(c.error().what().find("config: rootfs.diff_ids[0]: "), std::string::npos) << c.error().what();
  auto t = parse_config(R"({"architecture":"amd64","os":"linux","rootfs":{"type":"tar","diff_ids":[]}})");
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().what(), "config: rootfs.type: expected \"layers\", got \"tar\"");
  auto e = parse_config(R"({"architecture":"amd64","os":"linux","config":{"Env":"x"},"rootfs":{"type":"layers","diff_ids":[]}})");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().what(), "config: config.Env: expected array of strings, got string");
}

TEST(Descriptor, RoundTripsThroughJson) {
  Descriptor d;
  d.media_type = std::string(media_type::oci_manifest);
  d.digest = Digest::from_sha256_hex(hex('a'));
  d.size = 1234;
  d.set_annotation(ref_name_annotation, "busybox:latest");
  d.platform = Platform{"linux", "arm64", "v8"};
  auto back = parse_descriptor(descriptor_to_json(d), "d");
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(back->digest, d.digest);
  EXPECT_EQ(back->size, 1234u);
  EXPECT_EQ(*back->annotation(ref_name_annotation), "busybox:latest");
  EXPECT_EQ(back->platform->str(), "linux/arm64/v8");
}

}  // namespace
}  // namespace berth::images
