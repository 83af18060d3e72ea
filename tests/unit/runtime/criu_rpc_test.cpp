// criu_rpc_test.cpp — the CRIU RPC messages against bytes worked out from
// protobuf's wire format by hand (rpc.proto's field numbers), and the
// decoder's refusals of cut and malformed answers.
#include "criu_rpc.h"

#include <gtest/gtest.h>

#include <string>

namespace berth::runtime::criu {
namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

TEST(CriuRpc, EncodesADumpRequest) {
  Opts o;
  o.images_dir_fd = 5;
  o.pid = 300;
  o.leave_running = true;
  o.log_file = "d.log";
  Request r;
  r.type = ReqType::dump;
  r.opts = &o;
  // type=1 (08 01); opts (12 len): images_dir_fd=5 (08 05), pid=300 (10 ac 02),
  // leave_running (18 01), log_file (52 05 "d.log").
  std::string want = bytes({0x08, 0x01, 0x12, 0x0e, 0x08, 0x05, 0x10, 0xac, 0x02, 0x18, 0x01, 0x52, 0x05}) + "d.log";
  EXPECT_EQ(encode(r), want);
}

TEST(CriuRpc, EncodesRepeatedSubMessagesAndNegativeInts) {
  Opts o;
  o.images_dir_fd = -1;  // int32 -1: ten bytes
  o.ext_mnt = {{"/a", "/b"}};
  o.inherit_fd = {{"pipe:[1]", 0}};
  o.manage_cgroups_mode = CgMode::soft;
  Request r;
  r.type = ReqType::restore;
  r.opts = &o;
  std::string opts = bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01});
  opts += bytes({0xba, 0x01, 0x08, 0x0a, 0x02}) + "/a" + bytes({0x12, 0x02}) + "/b";  // field 23
  opts += bytes({0xda, 0x01, 0x0c, 0x0a, 0x08}) + "pipe:[1]" + bytes({0x10, 0x00});   // field 27
  opts += bytes({0x90, 0x02, 0x03});                                                  // field 34 = SOFT
  std::string want = bytes({0x08, 0x02, 0x12, static_cast<int>(opts.size())}) + opts;
  EXPECT_EQ(encode(r), want);
}

TEST(CriuRpc, EncodesANotifyAnswerAndAFeatureCheck) {
  Request n;
  n.type = ReqType::notify;
  n.notify_success = true;
  EXPECT_EQ(encode(n), bytes({0x08, 0x06, 0x18, 0x01}));
  Request f;
  f.type = ReqType::feature_check;
  f.ask_mem_track = true;
  f.ask_lazy_pages = true;
  EXPECT_EQ(encode(f), bytes({0x08, 0x09, 0x2a, 0x04, 0x08, 0x01, 0x10, 0x01}));
}

TEST(CriuRpc, DecodesARestoreAnswer) {
  // type=RESTORE, success, restore{pid=4242}, an unknown field 11 skipped.
  auto r = decode(bytes({0x08, 0x02, 0x10, 0x01, 0x22, 0x03, 0x08, 0x92, 0x21, 0x58, 0x07}));
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->type, ReqType::restore);
  EXPECT_TRUE(r->success);
  EXPECT_EQ(r->restore_pid, 4242);
}

TEST(CriuRpc, DecodesANotificationAndAFailure) {
  auto n = decode(bytes({0x08, 0x06, 0x10, 0x01, 0x2a, 0x0e, 0x0a, 0x0a}) + "post-dump!" + bytes({0x10, 0x07}));
  ASSERT_TRUE(n) << n.error().what();
  EXPECT_EQ(n->type, ReqType::notify);
  EXPECT_EQ(n->notify_script, "post-dump!");
  EXPECT_EQ(n->notify_pid, 7);
  auto f = decode(bytes({0x08, 0x01, 0x10, 0x00, 0x38, 0x10, 0x4a, 0x04}) + "busy");
  ASSERT_TRUE(f) << f.error().what();
  EXPECT_FALSE(f->success);
  EXPECT_EQ(f->cr_errno, 16);
  EXPECT_EQ(f->cr_errmsg, "busy");
}

TEST(CriuRpc, DecodesFeaturesAndVersion) {
  auto r = decode(bytes({0x08, 0x0a, 0x10, 0x01, 0x52, 0x06, 0x08, 0x03, 0x10, 0x11, 0x20, 0x01}));
  ASSERT_TRUE(r) << r.error().what();
  EXPECT_EQ(r->version_major, 3);
  EXPECT_EQ(r->version_minor, 17);
  EXPECT_EQ(r->version_sublevel, 1);
  auto f = decode(bytes({0x08, 0x09, 0x10, 0x01, 0x42, 0x04, 0x08, 0x01, 0x10, 0x00}));
  ASSERT_TRUE(f) << f.error().what();
  EXPECT_EQ(f->mem_track, true);
  EXPECT_EQ(f->lazy_pages, false);
}

TEST(CriuRpc, RefusesMalformedAnswers) {
  EXPECT_FALSE(decode(bytes({0x08})));                                      // a varint cut off
  EXPECT_FALSE(decode(bytes({0x08, 0x02})));                                // success missing
  EXPECT_FALSE(decode(bytes({0x08, 0x02, 0x10, 0x01, 0x22, 0x05, 0x08})));  // a sub-message past the end
  EXPECT_FALSE(decode(bytes({0x08, 0x02, 0x10, 0x01, 0x0b})));              // wire type 3
  EXPECT_FALSE(decode(bytes({0x00, 0x01})));                                // field 0
  auto r = decode(bytes({0x08, 0x02, 0x12, 0x01, 0x00}));                   // success as bytes
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().what().find("criu_resp.success"), std::string::npos) << r.error().what();
  EXPECT_FALSE(decode(bytes({0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})));
}

TEST(CriuRpc, ParsesCgroupModes) {
  EXPECT_EQ(*parse_cg_mode("soft"), CgMode::soft);
  EXPECT_EQ(*parse_cg_mode("full"), CgMode::full);
  EXPECT_EQ(*parse_cg_mode("strict"), CgMode::strict);
  EXPECT_EQ(*parse_cg_mode("ignore"), CgMode::ignore);
  auto bad = parse_cg_mode("hard");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().what().find("--manage-cgroups-mode"), std::string::npos);
}

}  // namespace
}  // namespace berth::runtime::criu
