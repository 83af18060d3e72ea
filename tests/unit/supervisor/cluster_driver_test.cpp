// cluster_driver_test.cpp — cluster containers on a node's Service: names,
// create requests, resource changes, and the driver's calls through a
// recording Service; a migration's copy from a canned source node, and
// its failures (source unreachable or refusing, no copy there, a failed
// import or start).
#include "berth/supervisor/cluster_driver.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "berth/base/fs.h"
#include "canned_peer.h"

using namespace berth;
using namespace berth::supervisor;

namespace {

cluster::ContainerRec rec(std::string id, int64_t milli, int64_t mb, int64_t gb = 0) {
  cluster::ContainerRec c;
  c.id = std::move(id);
  c.tmpl = "berth/busybox";
  c.resources = {milli, mb, gb};
  return c;
}

// A set's fields as "key=value ..." ("key=" clears one).
std::string fields_text(const SetRequest& ch) {
  std::string out;
  for (const auto& f : ch.fields) out += (out.empty() ? "" : " ") + f.key + "=" + f.value;
  return out;
}

// A Service holding records in memory and recording the verbs called.
class FakeService final : public Service {
public:
  struct Ct {
    Record r;
    State state = State::stopped;
  };
  std::map<std::string, Ct> cts;
  std::vector<std::string> calls;
  bool fail_import = false, fail_start = false;

  Result<Record> check_create(const CreateRequest& req) override {
    if (req.find("cluster")) return Error::msg("cluster: not settable");
    Record r;
    for (const auto& f : req.fields) BERTH_TRY(apply_field(r, f, ""));
    if (cts.count(r.name)) return Error(EEXIST, "name: exists");
    return r;
  }
  Result<ContainerStatus> create(const Record& r) override {
    calls.push_back("create " + r.name);
    cts[r.name].r = r;
    return ContainerStatus{};
  }
  std::vector<ContainerStatus> list() override {
    std::vector<ContainerStatus> out;
    for (const auto& [n, c] : cts) {
      ContainerStatus s;
      s.record = c.r;
      s.record.name = n;
      s.state = c.state;
      out.push_back(std::move(s));
    }
    return out;
  }
  Result<ContainerStatus> show(const std::string&) override { return ContainerStatus{}; }
  Result<ContainerStatus> start(const std::string& n) override {
    calls.push_back("start " + n);
    if (fail_start) return Error(EIO, "start " + n + ": init did not come up");
    cts[n].state = State::running;
    return ContainerStatus{};
  }
  Result<ContainerStatus> stop(const std::string& n, bool force, std::optional<int> t) override {
    calls.push_back("stop " + n + (force ? " force" : "") + " " + std::to_string(t.value_or(-1)));
    cts[n].state = State::stopped;
    return ContainerStatus{};
  }
  Result<std::vector<std::string>> stop_all(bool, std::optional<int>) override { return Error(ENOSYS, "not used"); }
  std::vector<ContainerStatus> start_autostart() override { return {}; }
  Status destroy(const std::string& n) override {
    calls.push_back("destroy " + n);
    cts.erase(n);
    return ok();
  }
  Status import_disk(const std::string& n, int fd, const std::string& image,
                     const std::vector<std::string>& layers) override {
    auto data = fs::read_fd(fd, "export");
    std::string l;
    for (const auto& x : layers) l += (l.empty() ? "" : ",") + x;
    calls.push_back("import " + n + " " + (data ? *data : data.error().what()) + " " + image + " " + l);
    if (fail_import) return Error(EINVAL, "import into " + n + ": another image");
    return ok();
  }
  Status check_set(const std::string&, const SetRequest&) override { return ok(); }
  Result<SetResult> set(const std::string& n, const SetRequest& ch) override {
    calls.push_back("set " + n + " " + fields_text(ch));
    for (const auto& f : ch.fields) BERTH_TRY(apply_field(cts[n].r, f, ""));
    return SetResult{};
  }
  Result<std::vector<ImageSummary>> images() override {
    ImageSummary i;
    i.tag = "berth/busybox";
    return std::vector<ImageSummary>{i, ImageSummary{}};  // an untagged one is no template
  }
  Result<ContainerStatus> restart(const std::string&) override { return Error::msg("unused"); }
  Result<ContainerStatus> suspend(const std::string&) override { return Error::msg("unused"); }
  Result<ContainerStatus> resume(const std::string&) override { return Error::msg("unused"); }
  Result<json::Value> exec(const std::string&, const std::vector<std::string>&, std::optional<int>) override {
    return Error::msg("unused");
  }
  Result<std::string> console_log(const std::string&) override { return Error::msg("unused"); }
  Result<UniqueFd> console(const std::string&) override { return Error::msg("unused"); }
  Result<UniqueFd> exec_terminal(const std::string&, const json::Value&) override { return Error::msg("unused"); }
  Result<json::Value> snapshot(const std::string&, const std::string&) override { return Error::msg("unused"); }
  Result<json::Value> rollback(const std::string&, const std::string&) override { return Error::msg("unused"); }
  Result<json::Value> snapshots(const std::string&) override { return Error::msg("unused"); }
  Result<json::Value> commit(const std::string&, const std::string&) override { return Error::msg("unused"); }
  Result<json::Value> build_template(const TemplateRequest&) override {
    return Error::msg("unused");
  }
  Status check_image_transfer(const json::Value&, bool) override { return Error::msg("unused"); }
  Result<json::Value> pull_image(const json::Value&, const ProgressReport&, const CancelFlag&) override {
    return Error::msg("unused");
  }
  Result<json::Value> push_image(const json::Value&, const ProgressReport&, const CancelFlag&) override {
    return Error::msg("unused");
  }
  Result<json::Value> inspect_image(const std::string&) override { return Error::msg("unused"); }
  Result<json::Value> remove_image(const std::string&) override { return Error::msg("unused"); }
  Result<json::Value> prune_images() override { return Error::msg("unused"); }
  std::string metrics() override { return {}; }
};

}  // namespace

TEST(ClusterName, ReadableUnlessHashed) {
  EXPECT_EQ(cluster_local_name("shop.web_app.0", false), "shop-web-app-0");
  std::string h = cluster_local_name("shop.web.0", true);
  EXPECT_EQ(h.rfind("shop-web-0-", 0), 0u);
  EXPECT_EQ(h.size(), std::string("shop-web-0-").size() + 8);
  EXPECT_NE(cluster_local_name("a-b.c.0", true), cluster_local_name("a.b-c.0", true));
  std::string longid(63, 'e');
  longid += "." + std::string(63, 'r') + ".12";
  std::string n = cluster_local_name(longid, false);
  EXPECT_EQ(n.size(), 64u);
  EXPECT_TRUE(validate_name(n));
}

TEST(ClusterBody, LimitsFromResources) {
  auto b = cluster_create_request(rec("w.a.0", 500, 256, 2), "w-a-0");
  ASSERT_TRUE(b) << b.error().what();
  EXPECT_EQ(fields_text(*b), "name=w-a-0 template=berth/busybox ram=268435456 cpulimit=50 disk=2147483648");
  auto none = cluster_create_request(rec("w.a.0", 0, 0), "w-a-0");
  ASSERT_TRUE(none);
  EXPECT_EQ(fields_text(*none), "name=w-a-0 template=berth/busybox");
  auto on_net = rec("w.a.0", 0, 0);
  on_net.network = "lan";
  auto nb = cluster_create_request(on_net, "w-a-0");
  ASSERT_TRUE(nb);
  EXPECT_EQ(fields_text(*nb), "name=w-a-0 template=berth/busybox net=lan");
  auto tiny = cluster_create_request(rec("w.a.0", 0, 2), "w-a-0");
  ASSERT_FALSE(tiny);
  EXPECT_NE(tiny.error().what().find("memory_mb: 2 is below"), std::string::npos);
}

TEST(ClusterChanges, OnlyWhatDiffers) {
  Record have;
  have.ram = 256u << 20;
  have.cpu_limit = 50;
  auto same = cluster_changes(have, rec("w.a.0", 500, 256));
  ASSERT_TRUE(same);
  EXPECT_TRUE(same->empty());
  auto more = cluster_changes(have, rec("w.a.0", 2000, 512, 4));
  ASSERT_TRUE(more);
  EXPECT_EQ(fields_text(*more), "ram=536870912 cpulimit=200 disk=4294967296");
  auto unlimited = cluster_changes(have, rec("w.a.0", 0, 0));
  ASSERT_TRUE(unlimited);
  EXPECT_EQ(fields_text(*unlimited), "ram= cpulimit=");
}

TEST(ClusterDriver, CreatesStartsUpdatesAndRemovesOnlyItsOwn) {
  FakeService svc;
  svc.cts["mine"].r.name = "mine";  // the operator's own container
  svc.cts["mine"].r.template_tag = "x";
  ClusterDriver d(svc, {7});
  auto first = d.start(rec("web.app.0", 500, 64));
  ASSERT_TRUE(first) << first.error().what();
  EXPECT_EQ(svc.calls, (std::vector<std::string>{"create web-app-0", "start web-app-0"}));
  EXPECT_EQ(svc.cts["web-app-0"].r.cluster, "web.app.0");
  EXPECT_EQ(d.list(), std::vector<std::string>{"web.app.0"});

  // Running as assigned: nothing to do. Stopped: started again.
  svc.calls.clear();
  ASSERT_TRUE(d.start(rec("web.app.0", 500, 64)));
  EXPECT_TRUE(svc.calls.empty());
  svc.cts["web-app-0"].state = State::stopped;
  ASSERT_TRUE(d.start(rec("web.app.0", 1000, 64)));
  EXPECT_EQ(svc.calls, (std::vector<std::string>{"set web-app-0 cpulimit=100", "start web-app-0"}));

  // A name held by someone else: the hashed name.
  svc.cts["web-app-1"].r.name = "web-app-1";
  svc.calls.clear();
  ASSERT_TRUE(d.start(rec("web.app.1", 0, 0)));
  ASSERT_EQ(svc.calls.size(), 2u);
  EXPECT_EQ(svc.calls[0].rfind("create web-app-1-", 0), 0u);

  svc.calls.clear();
  ASSERT_TRUE(d.stop("web.app.0"));
  EXPECT_EQ(svc.calls, (std::vector<std::string>{"stop web-app-0 7", "destroy web-app-0"}));
  ASSERT_TRUE(d.stop("web.app.0"));  // idempotent
  EXPECT_EQ(svc.cts.count("mine"), 1u);
  EXPECT_EQ(d.list(), std::vector<std::string>{"web.app.1"});
  auto t = d.templates();
  ASSERT_TRUE(t);
  EXPECT_EQ(*t, std::vector<std::string>{"berth/busybox"});
  json::Value u = d.usage();
  EXPECT_EQ(u.find("containers")->as_int(), 1);
  EXPECT_EQ(u.find("running")->as_int(), 1);
}

TEST(ClusterDriver, MissingTemplateIsAClearError) {
  FakeService svc;
  ClusterDriver d(svc);
  auto c = rec("web.app.0", 0, 0);
  c.tmpl.clear();
  auto st = d.start(c);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("no template"), std::string::npos);
  EXPECT_TRUE(svc.cts.empty());
}

namespace {

using berth::supervisor_test::CannedPeer;
using berth::supervisor_test::http_answer;

cluster::ContainerRec migrating(const std::string& address) {
  cluster::ContainerRec c = rec("web.app.0", 0, 0);
  c.from = "n1";
  c.from_address = address;
  return c;
}

ClusterDriverOptions peer_opts() {
  ClusterDriverOptions o;
  o.tmp_dir = "/tmp";
  o.peer.timeout_s = 5;
  return o;
}

// The source's list with its copy of web.app.0 under another local name.
const std::string kSourceList = R"([{"name":"web-app-0-x","state":"stopped","config":{"cluster":"web.app.0"}}])";
const std::string kExport =
    http_answer(200, "DISK", "Berth-Image: berth/busybox\r\nBerth-Layers: sha256:a,sha256:b\r\n");

}  // namespace

TEST(ClusterDriverMigrate, CopiesTheSourcesDiskThenStarts) {
  CannedPeer p({http_answer(200, kSourceList), kExport});
  FakeService svc;
  ClusterDriver d(svc, peer_opts());
  auto st = d.start(migrating(p.address()));
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(svc.calls, (std::vector<std::string>{"create web-app-0", "import web-app-0 DISK berth/busybox sha256:a,sha256:b",
                                                 "start web-app-0"}));
  auto reqs = p.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].rfind("GET /v1/containers HTTP/1.1\r\n", 0), 0u) << reqs[0];
  EXPECT_EQ(reqs[1].rfind("POST /v1/containers/web-app-0-x/export HTTP/1.1\r\n", 0), 0u) << reqs[1];
  EXPECT_EQ(svc.cts["web-app-0"].r.cluster, "web.app.0");
}

TEST(ClusterDriverMigrate, SourceWithoutACopyMakesItAfresh) {
  CannedPeer p(http_answer(200, "[]"));
  FakeService svc;
  ClusterDriver d(svc, peer_opts());
  auto st = d.start(migrating(p.address()));
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(svc.calls, (std::vector<std::string>{"create web-app-0", "start web-app-0"}));
}

TEST(ClusterDriverMigrate, SourceUnreachableOrRefusingMakesNothing) {
  FakeService svc;
  ClusterDriver d(svc, peer_opts());
  auto st = d.start(migrating("unix:/nonexistent/berthd.sock"));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("migrate web.app.0 from n1"), std::string::npos) << st.error().what();
  auto no_address = d.start(migrating(""));
  ASSERT_FALSE(no_address);
  EXPECT_NE(no_address.error().what().find("no API address"), std::string::npos) << no_address.error().what();
  {
    CannedPeer p({http_answer(200, kSourceList), http_answer(409, R"({"error":"export web-app-0-x: it did not stop"})")});
    st = d.start(migrating(p.address()));
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().what().find("export: export web-app-0-x: it did not stop"), std::string::npos)
        << st.error().what();
  }
  {
    CannedPeer p(http_answer(200, "not json"));
    st = d.start(migrating(p.address()));
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().what().find("list:"), std::string::npos) << st.error().what();
  }
  EXPECT_TRUE(svc.calls.empty());
  EXPECT_TRUE(svc.cts.empty());
}

TEST(ClusterDriverMigrate, FailedImportLeavesNothingHere) {
  CannedPeer p({http_answer(200, kSourceList), kExport});
  FakeService svc;
  svc.fail_import = true;
  ClusterDriver d(svc, peer_opts());
  auto st = d.start(migrating(p.address()));
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().what().find("another image"), std::string::npos) << st.error().what();
  ASSERT_EQ(svc.calls.size(), 3u);
  EXPECT_EQ(svc.calls.back(), "destroy web-app-0");
  EXPECT_TRUE(svc.cts.empty());
}

TEST(ClusterDriverMigrate, FailedStartKeepsTheCopyAndIsRetriedAlone) {
  CannedPeer p({http_answer(200, kSourceList), kExport});
  FakeService svc;
  svc.fail_start = true;
  ClusterDriver d(svc, peer_opts());
  auto c = migrating(p.address());
  ASSERT_FALSE(d.start(c));
  ASSERT_EQ(p.requests().size(), 2u);
  ASSERT_EQ(svc.cts.count("web-app-0"), 1u);  // the copied disk stays
  // The retry starts the copy made here; the source is not asked again.
  svc.fail_start = false;
  svc.calls.clear();
  auto st = d.start(c);
  ASSERT_TRUE(st) << st.error().what();
  EXPECT_EQ(svc.calls, std::vector<std::string>{"start web-app-0"});
}
