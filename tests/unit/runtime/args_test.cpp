// args_test.cpp — the runtime CLI's flag parser (runtime/cli/args.cpp):
// runc's spellings, "--" and positionals, unknown flags, and -h/--help
// answered with the command's flags.
#include "args.h"

#include <gtest/gtest.h>

using namespace berth;
using namespace berth::cli;

namespace {
const std::vector<FlagSpec> kSpecs = {{{"bundle", "b"}, true}, {{"detach", "d"}, false}};
}

TEST(Args, Spellings) {
  auto a = Args::parse({"-b", "/x", "--detach", "id"}, kSpecs);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->get("bundle"), "/x");
  EXPECT_TRUE(a->has("detach"));
  EXPECT_EQ(a->positional(), std::vector<std::string>{"id"});
  a = Args::parse({"--bundle=/y", "-bundle", "/z", "--", "-d"}, kSpecs);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->get("bundle"), "/z");
  EXPECT_EQ(a->all("bundle"), (std::vector<std::string>{"/y", "/z"}));
  EXPECT_EQ(a->positional(), std::vector<std::string>{"-d"});
}

TEST(Args, Refusals) {
  EXPECT_EQ(Args::parse({"--nope"}, kSpecs).error().message(), "flag provided but not defined: -nope");
  EXPECT_EQ(Args::parse({"--bundle"}, kSpecs).error().message(), "flag needs an argument: -bundle");
}

TEST(Args, HelpListsTheFlags) {
  auto h = Args::parse({"--help"}, kSpecs);
  ASSERT_FALSE(h);
  EXPECT_EQ(h.error().code(), kHelpAsked);
  EXPECT_EQ(h.error().message(), "flags:\n  --bundle, -b VALUE\n  --detach, -d\n");
  EXPECT_EQ(Args::parse({"-h"}, {}).error().message(), "no flags\n");
  // After the first positional (exec's command), --help is the command's.
  auto cmd = Args::parse({"id", "ls", "--help"}, kSpecs, true);
  ASSERT_TRUE(cmd);
  EXPECT_EQ(cmd->positional().back(), "--help");
}
