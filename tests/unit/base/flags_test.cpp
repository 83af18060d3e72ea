// flags_test.cpp — the one flag parser: both dialects' spellings and
// refusals, kinds and ranges checked while parsing, repeated flags, "--",
// the first positional ending the flags, -h/--help, expect() and only().
#include "berth/base/flags.h"

#include <gtest/gtest.h>

using namespace berth;
using namespace berth::flags;

namespace {
const std::vector<Flag> kFlags = {
    Flag::text({"bundle", "b"}),        Flag::boolean({"detach", "d"}), Flag::integer({"batch"}, 1, 40),
    Flag::number({"rate"}, 0, 1, true), Flag::size({"disk"}),           Flag::integer({"limit"})};
const Options kRunc{Dialect::runc};
const Options kGnu{Dialect::gnu, false, "env scale", true};

std::string refusal(const std::vector<std::string>& argv, const Options& o = kGnu) {
  auto a = Args::parse(argv, kFlags, o);
  return a ? "(accepted)" : a.error().message();
}
}  // namespace

TEST(Flags, GnuSpellings) {
  auto a = Args::parse({"-b", "/x", "--detach", "id", "--batch=4", "--disk", "2GiB", "--rate", "0.5"}, kFlags, kGnu);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->get("bundle"), "/x");
  EXPECT_TRUE(a->has("detach"));
  EXPECT_EQ(a->integer("batch", 0), 4);
  EXPECT_EQ(a->size("disk", 0), 2ull << 30);
  EXPECT_DOUBLE_EQ(a->number("rate", 0), 0.5);
  EXPECT_EQ(a->integer("limit", 7), 7);
  EXPECT_EQ(a->positional(), std::vector<std::string>{"id"});
  EXPECT_EQ(a->command(), "env scale");
}

TEST(Flags, RuncSpellings) {
  auto a = Args::parse({"--bundle=/y", "-bundle", "/z", "--detach=true", "--", "-d"}, kFlags, kRunc);
  ASSERT_TRUE(a) << a.error().message();
  EXPECT_EQ(a->get("bundle"), "/z");
  EXPECT_EQ(a->all("bundle"), (std::vector<std::string>{"/y", "/z"}));
  EXPECT_EQ(a->get("detach"), "true");
  EXPECT_EQ(a->positional(), std::vector<std::string>{"-d"});
  // runc's callers pass empty values on purpose, and so do scripts.
  EXPECT_TRUE(Args::parse({"--bundle", ""}, kFlags, kRunc));
  EXPECT_EQ(Args::parse({"--bundle="}, kFlags)->get("bundle", "unset"), "");
}

TEST(Flags, RuncRefusalsInItsWords) {
  EXPECT_EQ(refusal({"--nope"}, kRunc), "flag provided but not defined: -nope");
  EXPECT_EQ(refusal({"--bundle"}, kRunc), "flag needs an argument: -bundle");
}

TEST(Flags, GnuRefusalsNameTheFlag) {
  EXPECT_EQ(refusal({"--nope=1"}), "env scale: unknown flag --nope");
  EXPECT_EQ(refusal({"-bundle", "x"}), "env scale: unknown flag -bundle");
  EXPECT_EQ(refusal({"--bundle"}), "env scale: --bundle: needs a value");
  EXPECT_EQ(refusal({"--bundle="}), "env scale: --bundle: expected a value, got \"\"");
  EXPECT_EQ(refusal({"--detach=yes"}), "env scale: --detach: takes no value");
  EXPECT_EQ(refusal({"--batch", "abc"}), "env scale: --batch: expected an integer, got \"abc\"");
  EXPECT_EQ(refusal({"--batch", "100"}), "env scale: --batch: expected an integer from 1 to 40, got \"100\"");
  EXPECT_EQ(refusal({"--rate", "0"}), "env scale: --rate: expected a number from 0 (excluded) to 1, got \"0\"");
  EXPECT_EQ(refusal({"--rate", "nan"}), "env scale: --rate: expected a number, got \"nan\"");
  EXPECT_EQ(refusal({"--limit", "99999999999999999999"}),
            "env scale: --limit: expected an integer, got \"99999999999999999999\"");
  EXPECT_NE(refusal({"--disk", "1Gb!"}).find("env scale: --disk: unknown unit"), std::string::npos);
  EXPECT_EQ(refusal({"--disk", "1Gb!"}, {}).find("--disk: "), 0u);
}

TEST(Flags, HelpListsTheFlags) {
  auto h = Args::parse({"--help"}, {Flag::text({"bundle", "b"}), Flag::boolean({"detach", "d"})});
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code(), kHelpAsked);
  EXPECT_EQ(h.error().message(), "flags:\n  --bundle, -b VALUE\n  --detach, -d\n");
  EXPECT_EQ(Args::parse({"-h"}, {}).error().code(), kHelpAsked);
  EXPECT_EQ(Args::parse({"-h"}, {}).error().message(), "no flags\n");
  // A command that declares -h keeps it (a host name, say).
  auto own = Args::parse({"-h", "x"}, {Flag::text({"host", "h"})});
  ASSERT_TRUE(own);
  EXPECT_EQ(own->get("host"), "x");
}

TEST(Flags, FirstPositionalEndsTheFlags) {
  auto cmd = Args::parse({"-d", "id", "ls", "--help", "-b"}, kFlags, {Dialect::runc, true});
  ASSERT_TRUE(cmd) << cmd.error().message();
  EXPECT_TRUE(cmd->has("detach"));
  EXPECT_EQ(cmd->positional(), (std::vector<std::string>{"id", "ls", "--help", "-b"}));
}

TEST(Flags, ArgcArgv) {
  const char* raw[] = {"prog", "verb", "--batch", "3", "x"};
  auto a = Args::parse(5, const_cast<char**>(raw), 2, kFlags);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->integer("batch", 0), 3);
  EXPECT_EQ(a->positional(), std::vector<std::string>{"x"});
}

TEST(Flags, ExpectAndOnly) {
  auto a = Args::parse({"one"}, kFlags, kGnu);
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->expect({"NAME"}));
  EXPECT_EQ(a->expect({"NAME", "WORKERS"}).error().message(),
            "env scale: missing WORKERS (usage: env scale NAME WORKERS)");
  EXPECT_EQ(a->expect({}).error().message(), "env scale: unexpected argument \"one\" (usage: env scale)");
  auto b = Args::parse({"--batch", "2"}, kFlags, kGnu);
  ASSERT_TRUE(b);
  EXPECT_TRUE(b->only({"batch"}, "env scale"));
  EXPECT_EQ(b->only({"limit"}, "events").error().message(), "--batch: not an option of events");
}
