// residency_test.cpp — which of the monitor's mappings may be unmapped
// once it serves: its own binary's, not writable, with no anonymous page;
// and unmapping them in this process leaves it running.
#include "residency.h"

#include <gtest/gtest.h>

using namespace berth::supervisor;

namespace {

const char* kSmaps =
    "00400000-00401000 r--p 00000000 fe:00 5308447                            /usr/bin/berth-monitor\n"
    "Size:                  4 kB\n"
    "Rss:                   4 kB\n"
    "Anonymous:             0 kB\n"
    "VmFlags: rd mr mw me sd\n"
    "00401000-0062d000 r-xp 00001000 fe:00 5308447                            /usr/bin/berth-monitor\n"
    "Rss:                1072 kB\n"
    "Anonymous:             0 kB\n"
    "006a7000-006b4000 r--p 002a6000 fe:00 5308447                            /usr/bin/berth-monitor\n"
    "Rss:                  52 kB\n"
    "Anonymous:            12 kB\n"
    "006b4000-006b7000 rw-p 002b3000 fe:00 5308447                            /usr/bin/berth-monitor\n"
    "Anonymous:             0 kB\n"
    "006b7000-006bf000 rw-p 00000000 00:00 0 \n"
    "Anonymous:            16 kB\n"
    "7f0000000000-7f0000021000 r-xp 00000000 fe:00 77                         /usr/lib/other.so\n"
    "Anonymous:             0 kB\n"
    "7ffde8f74000-7ffde8f95000 rw-p 00000000 00:00 0                          [stack]\n"
    "Anonymous:            16 kB\n";

}  // namespace

TEST(Residency, CleanReadOnlyMappingsOfTheBinaryOnly) {
  auto r = clean_file_ranges(kSmaps, "/usr/bin/berth-monitor");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].start, 0x400000u);
  EXPECT_EQ(r[0].length, 0x1000u);
  EXPECT_EQ(r[1].start, 0x401000u);
  EXPECT_EQ(r[1].length, 0x22c000u);
  EXPECT_TRUE(clean_file_ranges(kSmaps, "/usr/bin/berth").empty());
  EXPECT_TRUE(clean_file_ranges("garbage\n-\n 1-2 x\n", "/usr/bin/berth-monitor").empty());
}

TEST(Residency, DroppingOwnPagesKeepsTheProcessWorking) {
  auto d = drop_clean_exe_pages();
  ASSERT_TRUE(d) << d.error().what();
  EXPECT_GT(*d, 0u);
  // Code and constants fault back in as they are used.
  auto again = drop_clean_exe_pages();
  ASSERT_TRUE(again) << again.error().what();
  EXPECT_EQ(*again, *d);
}
