// guest_files_test.cpp — what berthd writes into a guest's root: the SSH
// keys and password a create or set carries, checked, hashed and written
// inside the root only.
#include "guest_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "berth/base/fs.h"

using namespace berth;
using namespace berth::supervisor;

namespace {

const char* kKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBerthTestKeyBerthTestKeyBerthTestKey0 me@host";

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct Root {
  std::string dir;
  Root() {
    char t[] = "/tmp/guest-files-test.XXXXXX";
    dir = ::mkdtemp(t);
    EXPECT_TRUE(fs::mkdir_p(dir + "/root"));
    EXPECT_TRUE(fs::mkdir_p(dir + "/etc"));
    std::ofstream(dir + "/etc/shadow") << "root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n";
  }
  ~Root() { (void)fs::remove_tree(dir); }
};

}  // namespace

TEST(GuestAccess, TakenOutOfTheBodyCheckedAndHashed) {
  // The password holds '-' and '!', which crypt's alphabet ([./0-9A-Za-z])
  // has not: a hash can never hold it by chance ("pw" alone was in about
  // one random salt and hash in 40).
  auto body = json::parse(std::string(R"({"ram":"1G","ssh_key":")") + kKey + R"(\n# a comment\n","root_password":"clear-pw!"})");
  ASSERT_TRUE(body);
  auto a = take_guest_access(*body);
  ASSERT_TRUE(a) << a.error().what();
  EXPECT_EQ(a->ssh_keys, std::string(kKey) + "\n");
  EXPECT_EQ(a->root_hash.rfind("$6$", 0), 0u) << a->root_hash;
  EXPECT_EQ(a->root_hash.find("clear-pw!"), std::string::npos);
  EXPECT_EQ(json::dump(*body), R"({"ram":"1G"})");
  // Checked only: no hash (set's check phase).
  body = json::parse(R"({"root_password":"pw"})");
  a = take_guest_access(*body, false);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->root_hash.empty());
}

TEST(GuestAccess, BadInputNamesTheField) {
  auto bad = [](const std::string& text) {
    auto body = json::parse(text);
    EXPECT_TRUE(body) << text;
    auto a = take_guest_access(*body);
    return a ? std::string("accepted") : a.error().what();
  };
  EXPECT_NE(bad(R"({"ssh_key":"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI\nnot a key"})").find("ssh_key: line 2"), std::string::npos);
  EXPECT_NE(bad(R"({"ssh_key":"command=\"x\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBerth"})").find("ssh_key: line 1"),
            std::string::npos);
  EXPECT_NE(bad(R"({"ssh_key":"# only a comment\n"})").find("ssh_key: no public key"), std::string::npos);
  EXPECT_NE(bad(R"({"ssh_key":""})").find("ssh_key: expected a non-empty string"), std::string::npos);
  EXPECT_NE(bad(R"({"root_password":"a\nb"})").find("root_password: expected one line"), std::string::npos);
  EXPECT_NE(bad(R"({"root_password":7})").find("root_password: expected a non-empty string"), std::string::npos);
}

TEST(GuestAccess, WrittenIntoTheRootOnce) {
  Root r;
  std::ofstream(r.dir + "/root/.placeholder");
  ASSERT_TRUE(fs::mkdir_p(r.dir + "/root/.ssh"));
  std::ofstream(r.dir + "/root/.ssh/authorized_keys") << "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuestsOwnKeyGuestsOwnKey00 own";
  GuestAccess a{std::string(kKey) + "\n", "$6$salt$hash"};
  uid_t me = ::getuid();
  ASSERT_TRUE(apply_guest_access(r.dir, a, me));
  ASSERT_TRUE(apply_guest_access(r.dir, a, me));  // again: nothing doubled
  std::string keys = slurp(r.dir + "/root/.ssh/authorized_keys");
  EXPECT_EQ(keys, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGuestsOwnKeyGuestsOwnKey00 own\n" + std::string(kKey) + "\n");
  struct stat st;
  ASSERT_EQ(::stat((r.dir + "/root/.ssh/authorized_keys").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(slurp(r.dir + "/etc/shadow"), "root:$6$salt$hash:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\n");
}

TEST(GuestAccess, APlantedLinkStaysInsideTheRoot) {
  Root r;
  Root outside;
  // The guest made /root/.ssh a link to a host directory: the keys land
  // below the guest's root (the link resolves inside it), never outside.
  ASSERT_EQ(::symlink(outside.dir.c_str(), (r.dir + "/root/.ssh").c_str()), 0);
  GuestAccess a{std::string(kKey) + "\n", ""};
  (void)apply_guest_access(r.dir, a, ::getuid());
  EXPECT_FALSE(fs::exists(outside.dir + "/authorized_keys"));
  // No root line in the shadow file: said, nothing written.
  std::ofstream(r.dir + "/etc/shadow") << "nobody:*:19000:0:99999:7:::\n";
  auto st = apply_guest_access(r.dir, GuestAccess{"", "$6$s$h"}, ::getuid());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("root_password: /etc/shadow: no line for root"), std::string::npos);
  EXPECT_EQ(slurp(r.dir + "/etc/shadow"), "nobody:*:19000:0:99999:7:::\n");
}

TEST(GuestFiles, BootIdsAreUuids) {
  std::string a = new_boot_id(), b = new_boot_id();
  EXPECT_NE(a, b);
  ASSERT_EQ(a.size(), 37u);
  EXPECT_EQ(a[8], '-');
  EXPECT_EQ(a[14], '4');
  EXPECT_NE(std::string("89ab").find(a[19]), std::string::npos);
  EXPECT_EQ(a.back(), '\n');
  EXPECT_EQ(new_machine_id().size(), 32u);
}
