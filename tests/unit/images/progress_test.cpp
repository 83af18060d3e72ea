// progress_test.cpp — the plain-line and terminal progress displays.
#include "berth/images/progress.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include "berth/base/fs.h"

namespace berth::images {
namespace {

std::string read_back(int fd) {
  ::lseek(fd, 0, SEEK_SET);
  return *fs::read_fd(fd, "memfd");
}

TEST(Progress, HumanBytes) {
  EXPECT_EQ(human_bytes(812), "812 B");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(3u << 20), "3.0 MiB");
}

TEST(Progress, PlainLinesOnStateChangesOnly) {
  UniqueFd fd(::memfd_create("p", MFD_CLOEXEC));
  auto p = make_line_progress(fd.get());
  Digest d = sha256_of("x");
  p->blob(d, "layer", BlobState::downloading, 0, 2048);
  p->blob(d, "layer", BlobState::downloading, 1000, 2048);  // bytes alone: no line
  p->blob(d, "layer", BlobState::done, 2048, 2048);
  p->note("tagged x");
  p->finish();
  EXPECT_EQ(read_back(fd.get()), d.short_str() + " layer: downloading (2.0 KiB)\n" + d.short_str() +
                                     " layer: done (2.0 KiB)\ntagged x\n");
}

TEST(Progress, TerminalRedrawsInPlace) {
  UniqueFd fd(::memfd_create("p", MFD_CLOEXEC));
  auto p = make_terminal_progress(fd.get());
  Digest a = sha256_of("a"), b = sha256_of("b");
  p->blob(a, "layer", BlobState::downloading, 0, 100);
  p->blob(b, "layer", BlobState::downloading, 0, 100);
  p->blob(a, "layer", BlobState::done, 100, 100);
  p->finish();
  p->blob(b, "layer", BlobState::done, 100, 100);  // after finish: nothing
  std::string out = read_back(fd.get());
  EXPECT_NE(out.find("\x1b[2F\x1b[J"), std::string::npos);  // back over two rows
  EXPECT_NE(out.find("[                    ] 0 B / 100 B"), std::string::npos);
  size_t last = out.rfind("\x1b[2F");
  ASSERT_NE(last, std::string::npos);
  std::string final_frame = out.substr(last);
  EXPECT_NE(final_frame.find(a.short_str() + " layer"), std::string::npos);
  EXPECT_NE(final_frame.find("done"), std::string::npos);
  EXPECT_NE(final_frame.find("downloading"), std::string::npos);  // b never finished before finish()
}

}  // namespace
}  // namespace berth::images
