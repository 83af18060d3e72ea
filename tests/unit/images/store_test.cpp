// store_test.cpp — the OCI layout, verified blob writes and tags.
#include "berth/images/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <thread>

#include "berth/base/fs.h"
#include "berth/images/manifest.h"
#include "tar_builder.h"

namespace berth::images {
namespace {

using testing::make_temp_dir;
using testing::memfd_with;

class StoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = make_temp_dir("store-test");
    auto s = Store::open(dir_ + "/images");
    ASSERT_TRUE(s) << s.error().what();
    store_.emplace(std::move(*s));
  }
  void TearDown() override { ASSERT_TRUE(testing::remove_temp_dir(dir_)); }

  size_t count(const std::string& sub) { return fs::list_dir(store_->root() + "/" + sub)->size(); }

  Descriptor manifest_desc(const std::string& body) {
    auto d = store_->put_blob(body);
    EXPECT_TRUE(d);
    Descriptor m;
    m.media_type = std::string(media_type::oci_manifest);
    m.digest = *d;
    m.size = body.size();
    return m;
  }

  std::string dir_;
  std::optional<Store> store_;
};

TEST_F(StoreTest, CreatesTheLayout) {
  const std::string& r = store_->root();
  EXPECT_EQ(*fs::read_file(r + "/oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}\n");
  auto ix = parse_index(*fs::read_file(r + "/index.json"));
  ASSERT_TRUE(ix) << ix.error().what();
  EXPECT_TRUE(ix->manifests.empty());
  for (auto d : {"blobs/sha256", "layers/sha256", "tmp", "holds"}) EXPECT_TRUE(fs::exists(r + "/" + d)) << d;
  EXPECT_TRUE(Store::open(r));  // reopening keeps it
}

TEST_F(StoreTest, RefusesAnUnknownLayoutVersion) {
  std::string r = dir_ + "/other";
  ASSERT_TRUE(fs::mkdir_p(r));
  ASSERT_TRUE(fs::write_file_atomic(r + "/oci-layout", R"({"imageLayoutVersion":"2.0.0"})"));
  auto s = Store::open(r);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().what().find("imageLayoutVersion: unsupported version \"2.0.0\""), std::string::npos);
}

TEST_F(StoreTest, PutBlobVerifiesAndPublishesReadOnly) {
  std::string data(300000, 'x');
  Digest d = sha256_of(data);
  UniqueFd fd = memfd_with(data);
  ASSERT_TRUE(store_->put_blob(fd.get(), d, data.size()));
  EXPECT_TRUE(store_->has_blob(d));
  struct stat st;
  ASSERT_EQ(::stat(store_->blob_path(d).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0444u);
  EXPECT_EQ(*store_->read_blob(d, 1 << 20), data);
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(StoreTest, DigestMismatchIsRejectedAndNeverStored) {
  Digest claimed = sha256_of("what the manifest promised");
  UniqueFd fd = memfd_with("what the registry sent");
  auto st = store_->put_blob(fd.get(), claimed, std::nullopt);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("store blob " + claimed.str() + ": content has digest " +
                                   sha256_of("what the registry sent").str()),
            std::string::npos)
      << st.error().what();
  EXPECT_FALSE(store_->has_blob(claimed));
  EXPECT_EQ(count("blobs/sha256"), 0u);
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(StoreTest, ShortAndLongBlobsAreRejected) {
  std::string data = "0123456789";
  Digest d = sha256_of(data);
  UniqueFd shortfd = memfd_with(data.substr(0, 5));
  auto s = store_->put_blob(shortfd.get(), d, data.size());
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().what().find("got 5 bytes, expected 10"), std::string::npos);

  auto w = store_->begin_blob(d, 4);
  ASSERT_TRUE(w);
  auto over = w->write(data);
  ASSERT_FALSE(over);
  EXPECT_NE(over.error().what().find("more than the expected 4 bytes"), std::string::npos);
  EXPECT_FALSE(w->commit());
  EXPECT_EQ(count("blobs/sha256"), 0u);
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(StoreTest, AbandonedWriterLeavesNothing) {
  {
    auto w = store_->begin_blob(sha256_of("abc"), std::nullopt);
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write("ab"));
    EXPECT_EQ(count("tmp"), 1u);
  }
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(StoreTest, InterruptedWriterKeepsAPartialFileToResume) {
  std::string data = testing::noise(100000);
  Digest d = sha256_of(data);
  {
    auto w = store_->resume_blob(d, data.size());
    ASSERT_TRUE(w) << w.error().what();
    EXPECT_EQ(w->written(), 0u);
    ASSERT_TRUE(w->write(data.substr(0, 40000)));
    w->keep_partial(true);
  }  // the transfer broke off here
  EXPECT_TRUE(fs::exists(store_->root() + "/tmp/partial-" + d.hex()));
  EXPECT_FALSE(store_->has_blob(d));
  auto w = store_->resume_blob(d, data.size());
  ASSERT_TRUE(w) << w.error().what();
  EXPECT_EQ(w->written(), 40000u);
  ASSERT_TRUE(w->write(data.substr(40000)));
  ASSERT_TRUE(w->commit());
  EXPECT_EQ(*store_->read_blob(d, 1 << 20), data);
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(StoreTest, WrongPartialContentIsDroppedAtCommit) {
  std::string data = testing::noise(5000);
  Digest d = sha256_of(data);
  {
    auto w = store_->resume_blob(d, data.size());
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->write(std::string(1000, 'x')));  // not what the blob holds
    w->keep_partial(true);
  }
  auto w = store_->resume_blob(d, data.size());
  ASSERT_TRUE(w);
  ASSERT_EQ(w->written(), 1000u);
  ASSERT_TRUE(w->write(data.substr(1000)));
  auto st = w->commit();
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("content has digest"), std::string::npos);
  EXPECT_FALSE(store_->has_blob(d));
  EXPECT_EQ(count("tmp"), 0u);  // rejected bytes are never kept for a resume
}

TEST_F(StoreTest, ResumeWhileAnotherWriterHoldsThePartialStartsFresh) {
  std::string data = testing::noise(3000);
  Digest d = sha256_of(data);
  auto first = store_->resume_blob(d, data.size());
  ASSERT_TRUE(first);
  ASSERT_TRUE(first->write(data.substr(0, 1000)));
  auto second = store_->resume_blob(d, data.size());
  ASSERT_TRUE(second) << second.error().what();
  EXPECT_EQ(second->written(), 0u);
  ASSERT_TRUE(second->write(data));
  ASSERT_TRUE(second->commit());
  ASSERT_TRUE(first->write(data.substr(1000)));
  ASSERT_TRUE(first->commit());  // a duplicate: dropped, the blob stays
  EXPECT_EQ(*store_->read_blob(d, 1 << 20), data);
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(StoreTest, RestartEmptiesTheWriter) {
  std::string data = "the real content";
  Digest d = sha256_of(data);
  auto w = store_->begin_blob(d, data.size());
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->write("garbage"));
  ASSERT_TRUE(w->restart());
  EXPECT_EQ(w->written(), 0u);
  ASSERT_TRUE(w->write(data));
  ASSERT_TRUE(w->commit());
  EXPECT_EQ(*store_->read_blob(d), data);
}

TEST_F(StoreTest, SameContentIsStoredOnce) {
  auto a = store_->put_blob("same");
  auto b = store_->put_blob("same", sha256_of("same"));
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(*a, *b);
  // Two writers racing for one blob: both succeed, one file remains.
  auto w1 = store_->begin_blob(*a, 4);
  auto w2 = store_->begin_blob(*a, 4);
  ASSERT_TRUE(w1 && w2);
  ASSERT_TRUE(w1->write("same"));
  ASSERT_TRUE(w2->write("same"));
  EXPECT_TRUE(w1->commit());
  EXPECT_TRUE(w2->commit());
  EXPECT_EQ(count("blobs/sha256"), 1u);
  EXPECT_EQ(count("tmp"), 0u);
}

TEST_F(StoreTest, CorruptBlobOnDiskIsNoticed) {
  auto d = store_->put_blob("good");
  ASSERT_TRUE(d);
  std::string p = store_->blob_path(*d);
  ASSERT_EQ(::chmod(p.c_str(), 0644), 0);
  ASSERT_TRUE(fs::write_file(p, "evil"));
  auto r = store_->read_blob(*d);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("is corrupt on disk"), std::string::npos);
}

TEST_F(StoreTest, TagsResolveReplaceAndUntag) {
  Descriptor m1 = manifest_desc("{\"m\":1}");
  Descriptor m2 = manifest_desc("{\"m\":2}");
  ASSERT_TRUE(store_->tag("busybox:latest", m1));
  ASSERT_TRUE(store_->tag("alpine:3", m2));
  ASSERT_TRUE(store_->tag("busybox:latest", m2));
  auto all = store_->list();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  auto r = store_->resolve("busybox:latest");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->digest, m2.digest);
  EXPECT_EQ(*r->annotation(ref_name_annotation), "busybox:latest");

  ASSERT_TRUE(store_->untag("busybox:latest"));
  auto gone = store_->resolve("busybox:latest");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), ENOENT);
  EXPECT_EQ(gone.error().what(), "image busybox:latest: No such file or directory");
  EXPECT_FALSE(store_->untag("busybox:latest"));
}

TEST_F(StoreTest, TagNeedsThePresentManifest) {
  Descriptor m;
  m.media_type = std::string(media_type::oci_manifest);
  m.digest = sha256_of("absent");
  auto st = store_->tag("x:1", m);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("blob " + m.digest.str()), std::string::npos);
  Descriptor layer = manifest_desc("{}");
  layer.media_type = std::string(media_type::oci_layer_gzip);
  EXPECT_FALSE(store_->tag("x:1", layer));
  EXPECT_FALSE(store_->tag("bad ref", manifest_desc("{}")));
}

TEST_F(StoreTest, ConcurrentTaggersLoseNothing) {
  std::vector<Descriptor> ms;
  for (int i = 0; i < 4; ++i) ms.push_back(manifest_desc("{\"n\":" + std::to_string(i) + "}"));
  std::vector<std::thread> ts;
  for (int t = 0; t < 4; ++t)
    ts.emplace_back([&, t] {
      auto s = Store::open(store_->root());  // its own handle, as another process would
      for (int i = 0; i < 10; ++i) EXPECT_TRUE(s->tag("img" + std::to_string(t) + ":" + std::to_string(i), ms[t]));
    });
  for (auto& t : ts) t.join();
  auto all = store_->list();
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 40u);
}

TEST_F(StoreTest, HoldNamesAreChecked) {
  Descriptor m = manifest_desc("{}");
  EXPECT_TRUE(store_->hold("ctr-1", m.digest));
  EXPECT_FALSE(store_->hold("../x", m.digest));
  EXPECT_FALSE(store_->hold(".hidden", m.digest));
  EXPECT_FALSE(store_->hold("ctr-2", sha256_of("missing")));
  EXPECT_TRUE(store_->release("ctr-1"));
  EXPECT_TRUE(store_->release("ctr-1"));
}

}  // namespace
}  // namespace berth::images
