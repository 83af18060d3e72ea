// progress.h — what a pull or push tells its user while it runs: one
// compact line per blob redrawn in place on a terminal, or plain lines
// (one per state change) when the output is a file or a pipe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "berth/images/digest.h"

namespace berth::images {

enum class BlobState { waiting, downloading, uploading, unpacking, exists, done, failed };

/// "downloading", "exists", ...
std::string_view blob_state_name(BlobState s);

/// "1.5 MiB", "812 B".
std::string human_bytes(uint64_t n);

/// Receives progress from several threads at once (implementations lock).
class Progress {
public:
  virtual ~Progress() = default;
  /// Blob `d` (a "layer", "config", "manifest") is in state `s`, with
  /// `done` of `total` bytes moved (total 0: unknown).
  virtual void blob(const Digest& d, std::string_view kind, BlobState s, uint64_t done, uint64_t total) = 0;
  /// A message of its own ("resolved ... to sha256:...").
  virtual void note(std::string_view line) = 0;
  /// Draws the final state; nothing is written after it.
  virtual void finish() = 0;
};

/// In-place lines (ANSI cursor movement) on fd, redrawn at most ten times
/// a second and on every state change.
std::unique_ptr<Progress> make_terminal_progress(int fd);
/// Plain lines on fd: one per state change, none for byte counts.
std::unique_ptr<Progress> make_line_progress(int fd);
/// The terminal kind when isatty(fd), else plain lines.
std::unique_ptr<Progress> make_progress(int fd);

}  // namespace berth::images
