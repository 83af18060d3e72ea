// access_test.cpp — the rule table, roles from groups and certificates,
// projects at create, project limits and the trust store's file.
#include "berth/supervisor/access.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "berth/base/fs.h"

using namespace berth;
using namespace berth::supervisor;

namespace {

Request req(Verb v, json::Value body = json::Value()) {
  Request r;
  r.verb = v;
  r.name = "web1";
  r.body = std::move(body);
  return r;
}

Identity as(Role role, std::vector<std::string> projects = {}) {
  Identity id;
  id.name = "tls:someone";
  id.role = role;
  id.projects = std::move(projects);
  return id;
}

Record container(const std::string& name, const std::string& project, const std::string& ram) {
  Record r;
  EXPECT_TRUE(set_field(r, "NAME", name));
  EXPECT_TRUE(set_field(r, "TEMPLATE", "berth/busybox"));
  EXPECT_TRUE(set_field(r, "PROJECT", project));
  EXPECT_TRUE(set_field(r, "RAM", ram));
  EXPECT_TRUE(set_field(r, "DISK", "1G"));
  EXPECT_TRUE(set_field(r, "CPUS", "1"));
  return r;
}

}  // namespace

TEST(Access, EveryVerbHasARuleAndRolesNest) {
  // Viewer < operator < admin: what a role may do, the next may too.
  for (int v = 0; v <= static_cast<int>(Verb::project_set); ++v) {
    Request r = req(static_cast<Verb>(v));
    Role need = role_needed(r.verb);
    EXPECT_TRUE(authorize(as(Role::admin), r)) << verb_name(r.verb);
    EXPECT_EQ(authorize(as(Role::operator_), r).ok(), need != Role::admin) << verb_name(r.verb);
    EXPECT_EQ(authorize(as(Role::viewer), r).ok(), need == Role::viewer) << verb_name(r.verb);
  }
}

TEST(Access, ViewerReadsOnly) {
  EXPECT_TRUE(authorize(as(Role::viewer), req(Verb::list)));
  EXPECT_TRUE(authorize(as(Role::viewer), req(Verb::events)));
  auto st = authorize(as(Role::viewer), req(Verb::start));
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code(), kForbidden);
  EXPECT_EQ(st.error().message(), "tls:someone (viewer) may not start: it needs the operator role");
  EXPECT_FALSE(authorize(as(Role::viewer), req(Verb::console)));
  EXPECT_FALSE(authorize(as(Role::viewer), req(Verb::exec)));
}

TEST(Access, OperatorNeverReachesTheHost) {
  for (auto [key, value] : {std::pair{"privileged", json::Value(true)}, {"privileged", json::Value("yes")},
                            {"rootfs", json::Value("/etc")}, {"idmap_base", json::Value(0)}, {"cluster", json::Value("a.b.0")}}) {
    json::Value body = json::Value::object();
    body.set("name", "web1");
    body.set(key, value);
    auto st = authorize(as(Role::operator_), req(Verb::create, body));
    ASSERT_FALSE(st) << key;
    EXPECT_EQ(st.error().message(), std::string("tls:someone (operator) may not set ") + key + ": only an admin may");
    EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::set, body))) << key;
    EXPECT_TRUE(authorize(as(Role::admin), req(Verb::create, body))) << key;
  }
  json::Value plain = json::Value(json::Object{{"name", "web1"}, {"privileged", "no"}});
  EXPECT_TRUE(authorize(as(Role::operator_), req(Verb::create, plain)));
  auto ssh = authorize(as(Role::operator_), req(Verb::create, json::Value(json::Object{{"ports", "tcp:8080:80,tcp:22:22"}})));
  ASSERT_FALSE(ssh);
  EXPECT_EQ(ssh.error().message(), "tls:someone (operator) may not forward the node's port 22: ports below 1024 are an admin's");
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::set, json::Value(json::Object{{"ports", "443:443"}}))));
  EXPECT_TRUE(authorize(as(Role::operator_), req(Verb::set, json::Value(json::Object{{"ports", "udp:5353:53,8443:443"}}))));
  EXPECT_TRUE(authorize(as(Role::admin), req(Verb::set, json::Value(json::Object{{"ports", "443:443"}}))));
  // Blanks separate entries too, as the record reads them.
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::set, json::Value(json::Object{{"ports", "8080:80 22:22"}}))));
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::set, json::Value(json::Object{{"ports", "tcp:22:22\t8080:80"}}))));
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::set, json::Value(json::Object{{"ports", "tcp:0x16:22"}}))));
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::set, json::Value(json::Object{{"ports", json::Value(json::Array{"22:22"})}}))));
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::build_template, json::Value(json::Object{{"mirror", "file:///srv/debian"}}))));
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::build_template, json::Value(json::Object{{"mirror", "http://evil.example/debian"}}))));
  EXPECT_TRUE(authorize(as(Role::operator_), req(Verb::build_template, json::Value(json::Object{{"suite", "bookworm"}}))));
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::network_create)));
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::trust_add)));
  EXPECT_FALSE(authorize(as(Role::operator_), req(Verb::stop_all)));
}

TEST(Access, NodeCertificateServesMigrationOnly) {
  Request exp = req(Verb::export_disk);
  EXPECT_FALSE(authorize(as(Role::node), exp));  // no cluster id: not a migration
  exp.args = {"web.app.0"};
  EXPECT_TRUE(authorize(as(Role::node), exp));
  EXPECT_TRUE(authorize(as(Role::node), req(Verb::list)));
  for (Verb v : {Verb::exec, Verb::exec_terminal, Verb::console, Verb::show, Verb::create, Verb::destroy, Verb::trust_list}) {
    auto st = authorize(as(Role::node), req(v));
    ASSERT_FALSE(st) << verb_name(v);
    EXPECT_NE(st.error().message().find("a node certificate serves migration only"), std::string::npos);
  }
}

TEST(Access, UnixRoles) {
  EXPECT_EQ(unix_role(0, {0}, 998, 999), Role::admin);
  EXPECT_EQ(unix_role(1000, {1000, 998}, 998, 999), Role::admin);
  EXPECT_EQ(unix_role(1000, {1000, 999}, 998, 999), Role::operator_);
  EXPECT_EQ(unix_role(1000, {1000}, 998, 999), Role::viewer);
  EXPECT_EQ(unix_role(1000, {1000}, -1, -1), Role::viewer);
}

TEST(Access, CertificatesGetTheirRole) {
  TrustStore trust;
  CertSubject c{"alice", {"operator"}, {"shop", "blog"}, std::string(64, 'a')};
  auto id = certificate_identity(c, trust);
  ASSERT_TRUE(id) << id.error().what();
  EXPECT_EQ(id->role, Role::operator_);
  EXPECT_EQ(id->projects, (std::vector<std::string>{"shop", "blog"}));
  EXPECT_EQ(id->name, "tls:alice");
  // Unknown to the store and without OU=ROLE: refused.
  CertSubject bare{"bob", {}, {}, std::string(64, 'b')};
  auto refused = certificate_identity(bare, trust);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), kForbidden);
  EXPECT_NE(refused.error().message().find("certificate CN=bob (sha256 bbbbbbbbbbbbbbbb...) is not trusted"), std::string::npos);
  // The store wins over the subject.
  ASSERT_TRUE(trust.add(TrustEntry{bare.fingerprint, "bob", Role::viewer, {"shop"}}));
  id = certificate_identity(bare, trust);
  ASSERT_TRUE(id);
  EXPECT_EQ(id->role, Role::viewer);
  EXPECT_EQ(id->projects, std::vector<std::string>{"shop"});
  EXPECT_FALSE(certificate_identity(CertSubject{"x", {"admin", "viewer"}, {}, "f"}, trust));
  EXPECT_FALSE(certificate_identity(CertSubject{"x", {"operator"}, {"Bad Name"}, "f"}, trust));
  EXPECT_FALSE(certificate_identity(CertSubject{"x", {"node"}, {"shop"}, "f"}, trust));
}

TEST(Access, CreatesGoIntoTheClientsProject) {
  json::Value none = json::Value::object();
  EXPECT_EQ(*project_for_create(as(Role::admin), none), "default");
  EXPECT_EQ(*project_for_create(as(Role::operator_, {"shop"}), none), "shop");
  auto open = project_for_create(as(Role::operator_, {"shop", "blog"}), none);
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().message(), "project: tls:someone may create in shop, blog: name one");
  json::Value blog = json::Value(json::Object{{"project", "blog"}});
  EXPECT_EQ(*project_for_create(as(Role::operator_, {"shop", "blog"}), blog), "blog");
  auto other = project_for_create(as(Role::operator_, {"shop"}), blog);
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code(), kForbidden);
  EXPECT_FALSE(project_for_create(as(Role::admin), json::Value(json::Object{{"project", "../x"}})));
}

TEST(Access, ProjectLimits) {
  std::vector<Record> list;
  list.push_back(container("a", "shop", "256M"));
  list.push_back(container("b", "shop", "256M"));
  list.push_back(container("c", "blog", "4G"));
  Record r;
  r.name = "d";
  r.project = "shop";
  r.template_tag = "berth/busybox";
  r.ram = 256u << 20;
  r.disk = 1ull << 30;
  r.cpus = 1;
  EXPECT_TRUE(check_project_limits(r, ProjectLimits{}, list));
  EXPECT_TRUE(check_project_limits(r, ProjectLimits{3, 768u << 20, 3ull << 30, 3}, list));
  auto count = check_project_limits(r, ProjectLimits{2, {}, {}, {}}, list);
  ASSERT_FALSE(count);
  EXPECT_EQ(count.error().message(), "containers: project shop may use 2, this would make 3");
  auto ram = check_project_limits(r, ProjectLimits{{}, 600u << 20, {}, {}}, list);
  ASSERT_FALSE(ram);
  EXPECT_EQ(ram.error().message(), "ram: project shop may use 629145600, this would make 805306368");
  r.ram.reset();
  EXPECT_EQ(check_project_limits(r, ProjectLimits{{}, 1ull << 30, {}, {}}, list).error().message(),
            "ram: project shop limits RAM: give the container's ram");
  // A set of "a" counts a's new figures once.
  r.name = "a";
  r.ram = 512u << 20;
  EXPECT_TRUE(check_project_limits(r, ProjectLimits{{}, 768u << 20, {}, {}}, list));
}

TEST(Access, TrustStoreFile) {
  std::string dir = "/tmp/berth-access-test-" + std::to_string(::getpid());
  ASSERT_TRUE(fs::mkdir_p(dir, 0700));
  std::string path = dir + "/trust.json";
  {
    TrustStore t;
    ASSERT_TRUE(t.load(path));  // absent: empty
    ASSERT_TRUE(t.add(TrustEntry{std::string(64, 'c'), "carol", Role::operator_, {"shop"}}));
    ASSERT_TRUE(t.add(TrustEntry{std::string(63, 'c') + "d", "dave", Role::viewer, {}}));
    ASSERT_TRUE(t.set_limits("shop", ProjectLimits{5, 2ull << 30, {}, {}}));
    auto ambiguous = t.remove("cccccccccccc");
    ASSERT_FALSE(ambiguous);
    EXPECT_EQ(ambiguous.error().message(), "fingerprint: cccccccccccc names 2 certificates");
    EXPECT_FALSE(t.remove("abc"));
  }
  TrustStore back;
  ASSERT_TRUE(back.load(path));
  auto carol = back.find(std::string(64, 'c'));
  ASSERT_TRUE(carol);
  EXPECT_EQ(carol->role, Role::operator_);
  EXPECT_EQ(carol->projects, std::vector<std::string>{"shop"});
  EXPECT_EQ(back.limits("shop").containers, 5u);
  EXPECT_FALSE(back.limits("shop").disk);
  auto gone = back.remove(std::string(63, 'c') + "d");
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->name, "dave");
  // A damaged file names itself and the entry.
  ASSERT_TRUE(fs::write_file_atomic(path, R"({"certificates":[{"role":"root","fingerprint":"x"}]})"));
  auto bad = TrustStore().load(path);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), path + ": certificates[0]: role: expected viewer, operator, admin or node, got \"root\"");
  (void)fs::remove_tree(dir);
}

TEST(Access, TrustRequests) {
  auto e = decode_trust_entry(json::Value(json::Object{{"role", "operator"}, {"projects", json::Value(json::Array{"shop"})}}));
  ASSERT_TRUE(e);
  EXPECT_EQ(e->projects, std::vector<std::string>{"shop"});
  EXPECT_EQ(decode_trust_entry(json::Value(json::Object{{"projects", json::Value::array()}})).error().message(), "role: missing");
  EXPECT_EQ(decode_trust_entry(json::Value(json::Object{{"role", "viewer"}, {"color", "red"}})).error().message(),
            "color: unknown field");
  EXPECT_EQ(decode_trust_entry(json::Value(json::Object{{"role", "node"}, {"projects", json::Value(json::Array{"a"})}}))
                .error()
                .message(),
            "projects: a node certificate serves every project");
  ProjectLimits limits{{}, {}, 1ull << 30, 4};
  ASSERT_TRUE(apply_project_limits(limits, json::Value(json::Object{{"ram", "4G"}, {"containers", 3}, {"disk", json::Value()}})));
  EXPECT_EQ(*limits.ram, 4ull << 30);
  EXPECT_EQ(*limits.containers, 3u);
  EXPECT_FALSE(limits.disk);     // null: no limit
  EXPECT_EQ(*limits.cpus, 4u);   // not given: as it was
  EXPECT_EQ(apply_project_limits(limits, json::Value(json::Object{{"cpus", "many"}})).error().message(),
            "cpus: expected a whole number");
}

TEST(Access, ProjectImages) {
  EXPECT_EQ(image_project("projects/shop/web:1"), "shop");
  EXPECT_EQ(image_project("berth/debian"), "");
  EXPECT_EQ(image_project("projects/shop"), "");
  Identity shop = as(Role::operator_, {"shop"});
  Request commit = req(Verb::commit);
  commit.args = {"projects/shop/web:1"};
  EXPECT_TRUE(authorize(shop, commit));
  commit.args = {"berth/debian"};
  auto shared = authorize(shop, commit);
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().message(), "tls:someone (operator) may not write image berth/debian: its images are projects/shop/...");
  commit.args = {"projects/blog/web:1"};
  EXPECT_FALSE(authorize(shop, commit));
  EXPECT_TRUE(authorize(as(Role::operator_), commit));  // not bound: any tag
  auto from_blog = authorize(shop, req(Verb::create, json::Value(json::Object{{"template", "projects/blog/web:1"}})));
  ASSERT_FALSE(from_blog);
  EXPECT_EQ(from_blog.error().message(), "tls:someone (operator) may not use image projects/blog/web:1: it is project blog's");
  EXPECT_TRUE(authorize(shop, req(Verb::create, json::Value(json::Object{{"template", "berth/debian"}}))));
  EXPECT_FALSE(authorize(shop, req(Verb::image_push, json::Value(json::Object{{"image", "projects/blog/x"}, {"ref", "r/x"}}))));
  Request inspect = req(Verb::image_inspect);
  inspect.name = "projects/blog/x";
  EXPECT_FALSE(authorize(as(Role::viewer, {"shop"}), inspect));
  EXPECT_FALSE(authorize(shop, req(Verb::image_pull, json::Value(json::Object{{"ref", "reg.example/x:1"}}))));
  EXPECT_TRUE(authorize(shop, req(Verb::image_pull, json::Value(json::Object{{"ref", "reg.example/x:1"}, {"tag", "projects/shop/x:1"}}))));
}
