// record_test.cpp — the config file format: round trip, bad input naming the field.
#include "berth/supervisor/record.h"

#include <gtest/gtest.h>

using namespace berth;
using namespace berth::supervisor;

TEST(Record, RoundTrip) {
  Record r;
  r.name = "web1";
  r.hostname = "web1.example";
  r.rootfs_source = "/srv/templates/busybox";
  r.init = InitKind::systemd;
  r.ram = 256u << 20;
  r.swap = 128u << 20;
  r.cpus = 2;
  r.cpu_limit = 150;
  r.cpu_weight = 200;
  r.cpuset = "0-1";
  r.pids = 512;
  r.autostart = true;
  r.restart = RestartPolicy::on_failure;
  r.stop_timeout = 10;
  std::string text = format_record(r);
  EXPECT_NE(text.find("RAM=\"268435456\"\n"), std::string::npos);
  auto back = parse_record(text);
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(format_record(*back), text);
  EXPECT_EQ(back->init, InitKind::systemd);
  EXPECT_EQ(*back->cpu_limit, 150u);
}

TEST(Record, ParsesCommentsAndUnquoted) {
  auto r = parse_record("# comment\n\nNAME=ct1\nROOTFS=\"/r\"\nRAM=\"1G\"\nAUTOSTART=yes\n");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(*r->ram, 1ull << 30);
  EXPECT_TRUE(r->autostart);
}

TEST(Record, BadInputNamesLineAndKey) {
  auto r = parse_record("NAME=\"ct1\"\nROOTFS=\"/r\"\nCPUS=\"-1\"\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message().rfind("line 3: CPUS: expected a non-negative integer", 0), 0u) << r.error().message();
  r = parse_record("NAME=\"ct1\"\nROOTFS=\"/r\"\nCOLOUR=\"red\"\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("COLOUR: unknown field"), std::string::npos);
  r = parse_record("NAME=\"ct1\"\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "ROOTFS or TEMPLATE: missing");
  r = parse_record("NAME=\"ct1\"\nTEMPLATE=\"berth/busybox\"\nDISK=\"64M\"\n");
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->template_tag, "berth/busybox");
  EXPECT_EQ(r->disk, 64ull << 20);
  EXPECT_FALSE(parse_record("NAME=\"ct1\"\nTEMPLATE=\"t\"\nDISK=\"1M\"\n"));
  r = parse_record("NAME=\"../x\"\nROOTFS=\"/r\"\n");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("NAME: expected 1-64"), std::string::npos);
}

TEST(Record, Sizes) {
  EXPECT_EQ(*parse_size("512M"), 512ull << 20);
  EXPECT_EQ(*parse_size("2g"), 2ull << 30);
  EXPECT_EQ(*parse_size("4096"), 4096u);
  // The same parser as berth-image's: 1GiB is 1G, as disk create takes it.
  EXPECT_EQ(*parse_size("1GiB"), 1ull << 30);
  EXPECT_EQ(*parse_size("64kb"), 64u << 10);
  EXPECT_EQ(parse_size("1Gb!").error().message(), "unknown unit \"Gb!\" in \"1Gb!\": expected a size such as 512M or 2GiB");
  EXPECT_FALSE(parse_size("12X"));
  EXPECT_FALSE(parse_size("M"));
  EXPECT_FALSE(parse_size("99999999999999999999T"));
}

TEST(Record, ApplyJson) {
  Record r;
  auto v = json::parse(R"({"name":"a1","rootfs":"/r","ram":"64M","cpus":2,"autostart":true,"cpuweight":"50"})");
  ASSERT_TRUE(apply_json(r, *v, ""));
  EXPECT_EQ(*r.ram, 64u << 20);
  EXPECT_EQ(*r.cpus, 2u);
  EXPECT_TRUE(r.autostart);
  auto bad = apply_json(r, *json::parse(R"({"cpus":-2})"), "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message().rfind("cpus: expected a non-negative number", 0), 0u) << bad.error().message();
  bad = apply_json(r, *json::parse(R"({"ram":"1K"})"), "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "ram: expected at least 4M, got 1K");
  bad = apply_json(r, *json::parse(R"({"RAM":"64M"})"), "");
  EXPECT_EQ(bad.error().message(), "RAM: unknown field");
  bad = apply_json(r, *json::parse(R"({"hostname":"a\"b"})"), "");
  EXPECT_FALSE(bad);
  bad = apply_json(r, *json::parse(R"({"cpuset":"0-"})"), "");
  EXPECT_EQ(bad.error().message().rfind("cpuset: expected a CPU list", 0), 0u);
}

TEST(Record, LiveFields) {
  EXPECT_FALSE(needs_restart("ram"));
  EXPECT_FALSE(needs_restart("cpuset"));
  EXPECT_TRUE(needs_restart("hostname"));
  EXPECT_TRUE(needs_restart("init"));
}

TEST(Record, NetworkFields) {
  Record r;
  ASSERT_TRUE(set_field(r, "NET", "lan:198.18.0.2, dmz"));  // commas or spaces; dmz: address chosen at create
  EXPECT_EQ(r.nets, (std::vector<std::string>{"lan:198.18.0.2", "dmz"}));
  // A dual-stack network's entry keeps one address of each family.
  ASSERT_TRUE(set_field(r, "NET", "ds:198.18.1.2+fd00:1::2"));
  EXPECT_EQ(r.nets, (std::vector<std::string>{"ds:198.18.1.2+fd00:1::2"}));
  EXPECT_FALSE(set_field(r, "NET", "ds:198.18.1.2+"));
  EXPECT_FALSE(set_field(r, "NET", "ds:+fd00::2"));
  EXPECT_FALSE(set_field(r, "NET", "ds:1.2.3.4+fd00::2+fd00::3"));
  ASSERT_TRUE(set_field(r, "NET", "lan:198.18.0.2 v6:fd00:b::9"));
  EXPECT_EQ(r.nets, (std::vector<std::string>{"lan:198.18.0.2", "v6:fd00:b::9"}));
  ASSERT_TRUE(set_field(r, "NAMESERVER", "198.18.0.53,fd00::53"));
  ASSERT_TRUE(set_field(r, "SEARCHDOMAIN", "a.test b.test"));
  ASSERT_TRUE(set_field(r, "RATE", "10M"));
  EXPECT_EQ(*r.rate, 10u << 20);
  r.name = "c";
  r.rootfs_source = "/r";
  std::string text = format_record(r);
  EXPECT_NE(text.find("NET=\"lan:198.18.0.2 v6:fd00:b::9\"\n"), std::string::npos);
  auto back = parse_record(text);
  ASSERT_TRUE(back) << back.error().what();
  EXPECT_EQ(back->nets, r.nets);
  EXPECT_EQ(back->searchdomains, (std::vector<std::string>{"a.test", "b.test"}));
  EXPECT_FALSE(needs_restart("ram"));
  EXPECT_TRUE(needs_restart("net"));
  EXPECT_EQ(set_field(r, "NET", "lan:bogus").error().message(), "NET: expected NETWORK or NETWORK:ADDRESS, got \"lan:bogus\"");
  EXPECT_FALSE(set_field(r, "NET", "-bad/name"));
  EXPECT_FALSE(set_field(r, "NAMESERVER", "ns.example"));
  EXPECT_FALSE(set_field(r, "RATE", "12"));
}
