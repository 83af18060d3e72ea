// api_test.cpp — request decoding: paths, methods, bodies, statuses.
#include "berth/supervisor/api.h"

#include <gtest/gtest.h>

#include <ctime>

#include "berth/supervisor/operations.h"

using namespace berth;
using namespace berth::supervisor;

TEST(Api, Routes) {
  EXPECT_EQ(decode_request("GET", "/v1/containers", "")->verb, Verb::list);
  auto c = decode_request("POST", "/v1/containers", R"({"name":"a"})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verb, Verb::create);
  EXPECT_EQ(decode_request("GET", "/v1/containers/a", "")->verb, Verb::show);
  EXPECT_EQ(decode_request("PATCH", "/v1/containers/a", R"({"ram":"1G"})")->verb, Verb::set);
  EXPECT_EQ(decode_request("DELETE", "/v1/containers/a", "")->verb, Verb::destroy);
  auto s = decode_request("POST", "/v1/containers/a/stop", R"({"force":true,"timeout":5})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->verb, Verb::stop);
  EXPECT_TRUE(s->force);
  EXPECT_EQ(*s->timeout, 5);
  auto w = decode_request("GET", "/v1/operations/7/wait?timeout=3", "");
  ASSERT_TRUE(w);
  EXPECT_EQ(w->verb, Verb::operation_wait);
  EXPECT_EQ(w->name, "7");
  EXPECT_EQ(*w->timeout, 3);
  EXPECT_EQ(decode_request("GET", "/metrics", "")->verb, Verb::metrics);
  EXPECT_EQ(decode_request("GET", "/v1/events", "")->verb, Verb::events);
  EXPECT_EQ(decode_request("GET", "/v1/events?type=log,started", "")->args, (std::vector<std::string>{"log", "started"}));
  EXPECT_EQ(decode_request("GET", "/v1/events?type=log,,x", "").error().code(), 400);
  auto e = decode_request("POST", "/v1/containers/a/exec", R"({"args":["sh","-c","exit 3"]})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->args.size(), 3u);
  EXPECT_EQ(decode_request("GET", "/v1/containers/a/log", "")->verb, Verb::log);
  EXPECT_EQ(decode_request("GET", "/v1/containers/a/console", "")->verb, Verb::console);
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/console", "").error().code(), 405);
  EXPECT_TRUE(is_operation(Verb::start));
  EXPECT_FALSE(is_operation(Verb::list));
}

TEST(Api, ExecOnTerminal) {
  auto t = decode_request("POST", "/v1/containers/a/exec",
                          R"({"args":["sh"],"terminal":true,"env":["TERM=xterm"],"rows":24,"cols":80})");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->verb, Verb::exec_terminal);
  EXPECT_FALSE(is_operation(t->verb));
  EXPECT_EQ(json::dump(t->body), R"({"args":["sh"],"env":["TERM=xterm"],"rows":24,"cols":80})");
  auto plain = decode_request("POST", "/v1/containers/a/exec", R"({"args":["sh"],"terminal":false})");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->verb, Verb::exec);
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/exec", R"({"args":["sh"],"env":["A=1"]})").error().message(),
            "env: only with \"terminal\": true");
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/exec", R"({"args":["sh"],"terminal":1})").error().message(),
            "terminal: expected true or false");
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/exec", R"({"args":["sh"],"terminal":true,"env":["A"]})")
                .error()
                .message(),
            "env[0]: expected KEY=VALUE, got \"A\"");
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/exec", R"({"args":["sh"],"terminal":true,"rows":0})")
                .error()
                .message(),
            "rows: expected 1..65535");
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/exec", R"({"args":["sh"],"terminal":true,"tty":1})")
                .error()
                .message(),
            "tty: unknown field");
  auto timed = decode_request("POST", "/v1/containers/a/exec", R"({"args":["sleep","9"],"timeout":5})");
  ASSERT_TRUE(timed);
  EXPECT_EQ(timed->timeout, 5);
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/exec", R"({"args":["sh"],"timeout":0})").error().message(),
            "timeout: expected seconds 1..86400");
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/exec", R"({"args":["sh"],"terminal":true,"timeout":5})")
                .error()
                .message(),
            "timeout: only without \"terminal\": true");
}

TEST(Api, DiskAndImageRoutes) {
  auto s = decode_request("POST", "/v1/containers/a/snapshot", R"({"name":"s1"})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->verb, Verb::snapshot);
  EXPECT_EQ(s->args, std::vector<std::string>{"s1"});
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/rollback", R"({"name":"s1"})")->verb, Verb::rollback);
  auto c = decode_request("POST", "/v1/containers/a/commit", R"({"tag":"t/x"})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->args, std::vector<std::string>{"t/x"});
  EXPECT_EQ(decode_request("GET", "/v1/containers/a/snapshots", "")->verb, Verb::snapshots);
  EXPECT_EQ(decode_request("GET", "/v1/images", "")->verb, Verb::images);
  auto b = decode_request("POST", "/v1/images", R"({"template":"busybox","tag":"t"})");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->verb, Verb::build_template);
  EXPECT_EQ(b->args, (std::vector<std::string>{"busybox", "t"}));
  EXPECT_TRUE(is_operation(Verb::commit));
  EXPECT_FALSE(is_operation(Verb::snapshots));
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/snapshot", "").error().code(), 400);
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/snapshot", R"({"name":""})").error().code(), 400);
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/commit", R"({"tag":"t","x":1})").error().message(), "x: unknown field");
  EXPECT_EQ(decode_request("POST", "/v1/images", R"({"tag":"t"})").error().code(), 400);
  EXPECT_EQ(decode_request("DELETE", "/v1/images", "").error().code(), 405);
  // A disk's changes for a migration: streamed back, not an operation.
  auto x = decode_request("POST", "/v1/containers/web-app-0/export", R"({"cluster":"web.app.0"})");
  ASSERT_TRUE(x);
  EXPECT_EQ(x->verb, Verb::export_disk);
  EXPECT_EQ(x->args, std::vector<std::string>{"web.app.0"});
  EXPECT_FALSE(is_operation(Verb::export_disk));
  EXPECT_TRUE(decode_request("POST", "/v1/containers/a/export", "")->args.empty());
  EXPECT_EQ(decode_request("GET", "/v1/containers/a/export", "").error().code(), 405);
  EXPECT_EQ(decode_request("POST", "/v1/containers/a/export", R"({"cluster":"c","x":1})").error().message(), "x: unknown field");
}

TEST(Api, ImageStoreRoutes) {
  auto p = decode_request("POST", "/v1/images/pull", R"({"ref":"r:5000/a/b:1","platform":"linux/arm64","ca":"PEM"})");
  ASSERT_TRUE(p) << p.error().what();
  EXPECT_EQ(p->verb, Verb::image_pull);
  EXPECT_EQ(p->name, "r:5000/a/b:1");
  EXPECT_TRUE(is_operation(Verb::image_pull));
  auto u = decode_request("POST", "/v1/images/push", R"({"image":"x","ref":"r/a:1","credentials":"u:p"})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->verb, Verb::image_push);
  EXPECT_EQ(decode_request("POST", "/v1/images/prune", "")->verb, Verb::image_prune);
  auto i = decode_request("GET", "/v1/images/127.0.0.1:5000/team/app:1.0", "");
  ASSERT_TRUE(i);
  EXPECT_EQ(i->verb, Verb::image_inspect);
  EXPECT_EQ(i->name, "127.0.0.1:5000/team/app:1.0");
  auto d = decode_request("DELETE", "/v1/images/busybox", "");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->verb, Verb::image_remove);
  EXPECT_FALSE(is_operation(Verb::image_remove));
  auto b = decode_request("POST", "/v1/images", R"({"template":"debian","tag":"d","packages":["curl","vim"]})");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->args, (std::vector<std::string>{"debian", "d", "curl", "vim"}));

  EXPECT_EQ(decode_request("POST", "/v1/images/pull", "{}").error().message(), "ref: missing");
  EXPECT_EQ(decode_request("POST", "/v1/images/pull", R"({"ref":""})").error().message(),
            "ref: expected a non-empty string");
  EXPECT_EQ(decode_request("POST", "/v1/images/pull", R"({"ref":"a","plain_http":"yes"})").error().message(),
            "plain_http: expected true or false");
  EXPECT_EQ(decode_request("POST", "/v1/images/pull", R"({"ref":"a","password":"p"})").error().message(),
            "password: unknown field");
  EXPECT_EQ(decode_request("POST", "/v1/images/push", R"({"ref":"a"})").error().message(), "image: missing");
  EXPECT_EQ(decode_request("POST", "/v1/images/push", R"({"ref":"a","image":"b","tag":"c"})").error().code(), 400);
  EXPECT_EQ(decode_request("POST", "/v1/images/prune", R"({"all":true})").error().code(), 400);
  EXPECT_EQ(decode_request("PUT", "/v1/images/busybox", "").error().code(), 405);
  EXPECT_EQ(decode_request("POST", "/v1/images", R"({"template":"debian","tag":"d","packages":[""]})").error().code(),
            400);
}

TEST(Api, NodeRoutes) {
  auto s = decode_request("POST", "/v1/stop-all", R"({"force":true,"timeout":5})");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->verb, Verb::stop_all);
  EXPECT_TRUE(s->force);
  EXPECT_EQ(*s->timeout, 5);
  EXPECT_TRUE(is_operation(Verb::stop_all));
  EXPECT_EQ(decode_request("POST", "/v1/stop-all", "")->verb, Verb::stop_all);
  EXPECT_EQ(decode_request("POST", "/v1/autostart", "")->verb, Verb::autostart);
  EXPECT_EQ(decode_request("GET", "/v1/stop-all", "").error().code(), 405);
  auto bad = decode_request("POST", "/v1/stop-all", R"({"all":true})");
  EXPECT_EQ(bad.error().code(), 400);
  EXPECT_NE(bad.error().message().find("all: unknown field"), std::string::npos);
  EXPECT_EQ(decode_request("POST", "/v1/autostart", R"({"x":1})").error().code(), 400);
  EXPECT_EQ(decode_request("POST", "/v1/stop-all", R"({"timeout":-1})").error().code(), 400);
}

TEST(Api, BadRequests) {
  auto r = decode_request("GET", "/v2/containers", "");
  EXPECT_EQ(r.error().code(), 404);
  r = decode_request("PUT", "/v1/containers", "");
  EXPECT_EQ(r.error().code(), 405);
  r = decode_request("POST", "/v1/containers", "{nope");
  EXPECT_EQ(r.error().code(), 400);
  EXPECT_EQ(r.error().message().rfind("body: ", 0), 0u);
  r = decode_request("POST", "/v1/containers", "[1]");
  EXPECT_EQ(r.error().code(), 400);
  r = decode_request("POST", "/v1/containers/a/exec", R"({"args":[1]})");
  EXPECT_EQ(r.error().message(), "args[0]: expected a string");
  r = decode_request("POST", "/v1/containers/a/stop", R"({"timeout":-1})");
  EXPECT_EQ(r.error().message(), "timeout: expected seconds 0..86400");
  r = decode_request("POST", "/v1/containers/a/start", R"({"x":1})");
  EXPECT_EQ(r.error().message(), "x: unknown field");
  r = decode_request("POST", "/v1/containers/a/fly", "");
  EXPECT_EQ(r.error().code(), 404);
  r = decode_request("POST", "/v1/containers", std::string(kMaxBody + 1, ' '));
  EXPECT_EQ(r.error().code(), 413);
  r = decode_request("GET", "/v1/operations/1/wait?timeout=x", "");
  EXPECT_EQ(r.error().code(), 400);
}

TEST(Api, ErrorStatuses) {
  EXPECT_EQ(status_for(Error(ENOENT, "no container a")), 404);
  EXPECT_EQ(status_for(Error(EEXIST, "exists")), 409);
  EXPECT_EQ(status_for(Error::msg("ram: bad")), 400);
  EXPECT_EQ(status_for(Error(EIO, "x")), 500);
  EXPECT_EQ(status_for(Error(EACCES, "registry: authentication failed")), 403);
  EXPECT_EQ(status_for(Error(ENOSPC, "disk full")), 507);
  EXPECT_EQ(describe(Error(ENOENT, "no container a")), "no container a");
}

TEST(Operations, FinishCallsWaiters) {
  Operations ops;
  std::string id = ops.begin("start", "a", "uid 0 pid 1");
  EXPECT_EQ(ops.get(id)->find("by")->as_string(), "uid 0 pid 1");
  EXPECT_EQ(ops.get(id)->find("status")->as_string(), "running");
  std::string seen;
  ASSERT_TRUE(ops.wait(id, [&](const json::Value& d) { seen = d.find("status")->as_string(); }));
  EXPECT_EQ(seen, "");
  ops.finish(id, Error(EEXIST, "container a already exists"));
  EXPECT_EQ(seen, "failure");
  EXPECT_EQ(ops.get(id)->find("code")->as_int(), 409);
  ASSERT_TRUE(ops.wait(id, [&](const json::Value& d) { seen = d.find("error")->as_string(); }));
  EXPECT_EQ(seen, "container a already exists");
  EXPECT_FALSE(ops.wait("99", [](const json::Value&) {}));
}

TEST(Operations, Cancel) {
  Operations ops;
  std::string plain = ops.begin("start", "a");
  EXPECT_FALSE(ops.get(plain)->find("may_cancel")->as_bool());
  auto refused = ops.cancel(plain, "uid 0");
  ASSERT_FALSE(refused);
  EXPECT_EQ(status_for(refused.error()), 400);
  EXPECT_NE(refused.error().message().find("cannot be cancelled"), std::string::npos);
  EXPECT_EQ(ops.cancel("99", "uid 0").error().code(), ENOENT);

  std::string pull = ops.begin("image-pull", "");
  auto flag = std::make_shared<std::atomic<bool>>(false);
  ops.cancellable(pull, flag);
  EXPECT_TRUE(ops.get(pull)->find("may_cancel")->as_bool());
  ASSERT_TRUE(ops.cancel(pull, "uid 0 pid 7"));
  EXPECT_TRUE(flag->load());
  EXPECT_EQ(ops.get(pull)->find("status")->as_string(), "cancelling");
  ops.finish(pull, Error(ECANCELED, "GET http://r/v2/x/blobs/sha256:1: stopped"));
  EXPECT_EQ(ops.get(pull)->find("status")->as_string(), "cancelled");
  EXPECT_EQ(ops.get(pull)->find("error")->as_string(), "cancelled by uid 0 pid 7");
  EXPECT_EQ(ops.cancel(pull, "uid 0").error().code(), EALREADY);

  // The work finished before it saw the flag: its result stands.
  std::string raced = ops.begin("image-push", "");
  ops.cancellable(raced, std::make_shared<std::atomic<bool>>(false));
  ASSERT_TRUE(ops.cancel(raced, "uid 0"));
  ops.finish(raced, json::Value(json::Object{{"digest", "sha256:2"}}));
  EXPECT_EQ(ops.get(raced)->find("status")->as_string(), "success");

  auto del = decode_request("DELETE", "/v1/operations/12", "");
  ASSERT_TRUE(del);
  EXPECT_EQ(del->verb, Verb::operation_cancel);
  EXPECT_EQ(del->name, "12");
  EXPECT_EQ(decode_request("POST", "/v1/operations/12", "").error().code(), 405);
}

TEST(Api, NetworkRoutes) {
  EXPECT_EQ(decode_request("GET", "/v1/networks", "")->verb, Verb::networks);
  auto c = decode_request("POST", "/v1/networks", R"({"name":"lan","subnet4":"198.18.0.0/24"})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->verb, Verb::network_create);
  auto d = decode_request("DELETE", "/v1/networks/lan", "");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->verb, Verb::network_remove);
  EXPECT_EQ(d->name, "lan");
  EXPECT_FALSE(is_operation(Verb::network_create));
  EXPECT_EQ(decode_request("POST", "/v1/networks", "").error().code(), 400);
  EXPECT_EQ(decode_request("PUT", "/v1/networks", "").error().code(), 405);
  EXPECT_EQ(decode_request("DELETE", "/v1/networks", "").error().code(), 405);
  EXPECT_EQ(status_for(Error(EADDRINUSE, "net[0]: in use")), 409);
}

TEST(Api, SettingsFromBodies) {
  auto b = json::parse(R"({"ram":"256M","cpus":2,"autostart":true,"swap":null,"ssh_key":"k","root_password":"p"})");
  ASSERT_TRUE(b);
  auto s = decode_settings(*b);
  ASSERT_TRUE(s) << s.error().what();
  ASSERT_EQ(s->fields.size(), 4u);
  EXPECT_EQ(s->find("ram")->value, "256M");
  EXPECT_EQ(s->find("cpus")->value, "2");
  EXPECT_EQ(s->find("autostart")->value, "yes");
  EXPECT_EQ(s->find("swap")->value, "");
  EXPECT_EQ(s->find("hostname"), nullptr);
  EXPECT_EQ(*s->ssh_key, "k");
  EXPECT_EQ(*s->root_password, "p");
  // The errors name the field as the service's checks did.
  auto bad = [](const char* text) {
    auto v = json::parse(text);
    auto r = decode_set_request(*v);
    return r ? std::string() : r.error().what();
  };
  EXPECT_EQ(bad("{}"), "body: expected an object of changes");
  EXPECT_EQ(bad(R"({"colour":"red"})"), "colour: unknown field");
  EXPECT_EQ(bad(R"({"RAM":"1G"})"), "RAM: unknown field");
  EXPECT_EQ(bad(R"({"ram":-1})"), "ram: expected a non-negative number, got -1");
  EXPECT_EQ(bad(R"({"ram":[1]})"), "ram: expected a string or number, got array");
  EXPECT_EQ(bad(R"({"hostname":"a\"b"})"), "hostname: quotes and newlines are not allowed");
  EXPECT_EQ(bad(R"({"ssh_key":""})"), "ssh_key: expected a non-empty string");
}

TEST(Api, ContainerJson) {
  ContainerStatus c;
  c.record.name = "a";
  c.record.ram = 64u << 20;
  EXPECT_EQ(json::dump(container_json(c)),
            R"({"name":"a","state":"stopped","config":)" + json::dump(record_json(c.record)) + "}");
  c.state = State::running;
  c.init_pid = 10;
  c.monitor_pid = 9;
  c.started = ::time(nullptr);
  c.record.nets = {"lan"};
  c.usage = Usage{1, 2, 3};
  c.last_exit = json::Value(json::Object{{"code", 0}});
  json::Value v = container_json(c);
  EXPECT_EQ(v.find("state")->as_string(), "running");
  EXPECT_EQ(v.find("init_pid")->as_int(), 10);
  EXPECT_EQ(v.find("monitor_pid")->as_int(), 9);
  EXPECT_LE(v.find("uptime")->as_int(), 1);
  EXPECT_TRUE(v.find("addresses")->as_array().empty());  // named, none chosen yet
  EXPECT_EQ(json::dump(*v.find("resources")), R"({"cpu_ns":1,"memory_bytes":2,"pids":3})");
  EXPECT_EQ(json::dump(*v.find("last_exit")), R"({"code":0})");
  EXPECT_EQ(json::dump(set_result_json(SetResult{{"ram"}, {"hostname"}})),
            R"({"live":["ram"],"restart":["hostname"]})");
}

TEST(Api, ImagesJson) {
  std::vector<ImageSummary> all(2);
  all[0] = ImageSummary{"berth/busybox", "sha256:aa", 512, "linux/amd64"};
  all[1].digest = "sha256:bb";
  all[1].size = 7;
  EXPECT_EQ(json::dump(images_json(all)),
            R"([{"tag":"berth/busybox","digest":"sha256:aa","size":512,"platform":"linux/amd64"},)"
            R"({"digest":"sha256:bb","size":7}])");
}
