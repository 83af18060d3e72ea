// residency.h — the monitor's resident set after start-up. Each page of
// the binary a process touches is mapped with up to 64 KiB around it
// (the kernel's fault-around), so the C library's start-up and the
// monitor's own set-up leave about a megabyte of the binary's text and
// read-only data mapped, most of it never run again. Those pages are
// clean file pages: unmapping them (they stay in the page cache, shared
// by every monitor) lets the serving loop fault back only what it runs.
// The serving loop does it when it starts and again after its first quiet
// second (the guest's boot faults much back), then at most once a minute
// after later activity.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"

namespace berth::supervisor {

struct MappedRange {
  uintptr_t start = 0;
  size_t length = 0;
};

/// From the text of /proc/self/smaps: the mappings of file `path` that
/// are not writable and hold no anonymous (copied-on-write) page, which
/// can be unmapped without losing anything.
std::vector<MappedRange> clean_file_ranges(std::string_view smaps, std::string_view path);

/// Unmaps (MADV_DONTNEED) this process's clean mappings of its own
/// executable; returns the bytes of address range released.
Result<size_t> drop_clean_exe_pages();

}  // namespace berth::supervisor
