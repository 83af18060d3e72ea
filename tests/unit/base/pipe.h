// pipe.h — a close-on-exec pipe for tests that pass or hand on its ends.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>

#include "berth/base/fd.h"

namespace berth::testing {

struct Pipe {
  Pipe() {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    rd.reset(p[0]);
    wr.reset(p[1]);
  }
  /// Closes the parent's write end and reads to EOF: everything written,
  /// once every other write end is closed too.
  std::string drain() {
    wr.reset();
    std::string out;
    char buf[256];
    for (ssize_t n; (n = ::read(rd.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
    return out;
  }
  UniqueFd rd, wr;
};

}  // namespace berth::testing
