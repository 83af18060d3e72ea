// command.h — runs a helper program (mkfs.ext4, resize2fs, debootstrap)
// to completion and turns its failure into an Error naming it.
#pragma once

#include <string>
#include <vector>

#include "berth/base/error.h"

namespace berth {

struct CommandOptions {
  /// Keep at most this many bytes of combined stdout+stderr (the tail).
  size_t output_limit = 16u << 10;
  /// Let the program inherit stdout/stderr instead of capturing them
  /// (long-running tools whose progress the user should see).
  bool inherit_output = false;
};

/// Runs argv[0] (looked up in PATH) with argv, stdin from /dev/null, and
/// waits for it. Returns its captured output on exit status 0; otherwise an
/// error "<prog>: exit status N: <last output line(s)>" (or the signal).
/// A program that cannot be started is an error with its errno (ENOENT
/// when it is not installed).
Result<std::string> run_command(const std::vector<std::string>& argv, const CommandOptions& opts = {});

}  // namespace berth
