// frames.h — the client's side of a command on a terminal (`berth exec -t`,
// `berth enter`): after berthd's 101 answer the client and the container's
// monitor exchange frames, each one kind byte, a 4-byte big-endian length
// and the payload. The same wire format as the monitor's
// (supervisor/frames.h); pure, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::client::frames {

enum class Kind : char {
  input = 'i',      // client -> monitor: keys for the pty
  input_end = 'e',  // client -> monitor: the client's input ended
  resize = 'w',     // client -> monitor: rows and columns, two big-endian 16-bit numbers
  output = 'o',     // monitor -> client: what the pty wrote
  exit = 'x',       // monitor -> client: {"code":N} or {"code":255,"error":"..."}, the last frame
};

constexpr size_t kMaxPayload = 1u << 16;

struct Frame {
  Kind kind;
  std::string payload;
};

/// One frame.
std::string encode(Kind k, std::string_view payload);
/// A resize frame.
std::string resize(uint16_t rows, uint16_t cols);

/// Takes the first whole frame off the front of `buf`; nothing while it is
/// incomplete. An unknown kind or a payload over kMaxPayload is an error
/// (the stream cannot be trusted after it).
Result<std::optional<Frame>> take(std::string& buf);

}  // namespace berth::client::frames
