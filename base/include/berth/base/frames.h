// frames.h — the byte stream of a command on a terminal (`berth exec -t`,
// `berth enter`): after the API's 101 answer the client and the monitor
// exchange frames, each one kind byte, a 4-byte big-endian length and the
// payload. berth-monitor speaks it on one side, clients (berth) on the
// other. Pure: no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::frames {

enum class Kind : char {
  input = 'i',      // client -> monitor: keys for the pty
  input_end = 'e',  // client -> monitor: the client's input ended (sent as the pty's EOF character)
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
/// Rows and columns of a resize frame's payload.
Result<std::pair<uint16_t, uint16_t>> parse_resize(std::string_view payload);

/// Takes the first whole frame off the front of `buf`; nothing while it is
/// incomplete. An unknown kind or a payload over kMaxPayload is an error
/// (the stream cannot be trusted after it).
Result<std::optional<Frame>> take(std::string& buf);

}  // namespace berth::frames
