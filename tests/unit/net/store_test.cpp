// store_test.cpp — the state files: networks and leases survive a "restart"
// (a fresh load from disk), and a missing lease file is an empty table.
#include "store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include "berth/base/fs.h"

namespace berth::net {
namespace {

class StoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/berth-net-store-test.XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { ASSERT_TRUE(fs::remove_tree(dir_)); }
  std::string dir_;
};

TEST_F(StoreTest, NetworksAndLeasesRoundTripThroughDisk) {
  auto lk = store::lock(dir_);
  ASSERT_TRUE(lk) << lk.error().what();
  Network n;
  n.name = "web";
  n.v4 = Subnet{*parse_cidr("198.18.1.0/24"), {}};
  apply_defaults(n);
  ASSERT_TRUE(store::save_network(dir_, n));
  EXPECT_EQ(store::load_leases(dir_, "web")->items.size(), 0u);

  LeaseTable t;
  Attachment a;
  a.container = "c1";
  a.ipv4 = *allocate(n, *n.v4, t, {});
  t.items.push_back(a);
  ASSERT_TRUE(store::save_leases(dir_, "web", t));

  // A new process reads the same state: the next address differs.
  auto nets = store::load_networks(dir_);
  ASSERT_TRUE(nets);
  ASSERT_EQ(nets->size(), 1u);
  EXPECT_EQ((*nets)[0].bridge, "bb-web");
  LeaseTable back = *store::load_leases(dir_, "web");
  ASSERT_EQ(back.items.size(), 1u);
  EXPECT_EQ(back.items[0].ipv4->str(), "198.18.1.2");
  EXPECT_EQ(allocate(n, *n.v4, back, {})->str(), "198.18.1.3");
  auto all = store::load_all(dir_);
  ASSERT_TRUE(all);
  EXPECT_NE(render_ruleset(*all).find("198.18.1.0/24"), std::string::npos);
}

TEST_F(StoreTest, UnknownNetworkIsEnoent) {
  auto r = store::load_network(dir_, "nope");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ENOENT);
  EXPECT_EQ(r.error().message(), "network nope does not exist");
  EXPECT_EQ(store::load_network(dir_, "../x").error().code(), ENOENT);
}

TEST_F(StoreTest, CorruptLeaseFileNamesThePath) {
  ASSERT_TRUE(store::lock(dir_));
  ASSERT_TRUE(fs::write_file_atomic(store::leases_path(dir_, "web"), "{\"attachments\": ["));
  auto r = store::load_leases(dir_, "web");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find(store::leases_path(dir_, "web")), std::string::npos);
}

}  // namespace
}  // namespace berth::net
