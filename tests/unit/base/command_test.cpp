// command_test.cpp — run_command's output and its errors.
#include "berth/base/command.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

TEST(RunCommand, OutputOfBothStreams) {
  auto out = run_command({"sh", "-c", "echo out; echo err >&2; cat"});
  ASSERT_TRUE(out) << out.error().what();
  EXPECT_EQ(*out, "out\nerr\n");  // stdin is /dev/null: cat ends at once
}

TEST(RunCommand, FailureNamesProgramStatusAndLastOutput) {
  auto out = run_command({"sh", "-c", "echo first; echo 'no space left' >&2; exit 3"});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), 0);
  EXPECT_EQ(out.error().message(), "sh: exit status 3: first no space left");
  auto killed = run_command({"sh", "-c", "kill -9 $$"});
  ASSERT_FALSE(killed);
  EXPECT_EQ(killed.error().message(), "sh: killed by signal Killed");
}

TEST(RunCommand, MissingProgram) {
  auto out = run_command({"berth-no-such-program"});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code(), ENOENT);
  EXPECT_EQ(out.error().message(), "run berth-no-such-program");
}

}  // namespace
}  // namespace berth
