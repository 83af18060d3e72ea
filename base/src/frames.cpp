// frames.cpp — encoding and decoding the frames of a terminal session.
#include "berth/base/frames.h"

#include <cerrno>

namespace berth::frames {

namespace {

void put32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t get(std::string_view s, size_t at, size_t bytes) {
  uint32_t v = 0;
  for (size_t i = 0; i < bytes; ++i) v = v << 8 | static_cast<unsigned char>(s[at + i]);
  return v;
}

bool known(char k) {
  switch (static_cast<Kind>(k)) {
    case Kind::input:
    case Kind::input_end:
    case Kind::resize:
    case Kind::output:
    case Kind::exit: return true;
  }
  return false;
}

}  // namespace

std::string encode(Kind k, std::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size());
  out.push_back(static_cast<char>(k));
  put32(out, static_cast<uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

std::string resize(uint16_t rows, uint16_t cols) {
  std::string p;
  for (uint16_t v : {rows, cols}) {
    p.push_back(static_cast<char>(v >> 8));
    p.push_back(static_cast<char>(v & 0xff));
  }
  return encode(Kind::resize, p);
}

Result<std::pair<uint16_t, uint16_t>> parse_resize(std::string_view payload) {
  if (payload.size() != 4)
    return Error(EPROTO, "resize frame: expected 4 bytes, got " + std::to_string(payload.size()));
  return std::make_pair(static_cast<uint16_t>(get(payload, 0, 2)), static_cast<uint16_t>(get(payload, 2, 2)));
}

Result<std::optional<Frame>> take(std::string& buf) {
  if (buf.empty()) return std::optional<Frame>();
  if (!known(buf[0])) return Error(EPROTO, "frame: unknown kind " + std::to_string(static_cast<unsigned char>(buf[0])));
  if (buf.size() < 5) return std::optional<Frame>();
  uint32_t len = get(buf, 1, 4);
  if (len > kMaxPayload) return Error(EPROTO, "frame: payload of " + std::to_string(len) + " bytes is over the limit");
  if (buf.size() < 5 + len) return std::optional<Frame>();
  Frame f{static_cast<Kind>(buf[0]), buf.substr(5, len)};
  buf.erase(0, 5 + len);
  return std::optional<Frame>(std::move(f));
}

}  // namespace berth::frames
