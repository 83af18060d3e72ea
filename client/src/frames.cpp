// frames.cpp — the terminal session's frames, client side.
#include "berth/client/frames.h"

namespace berth::client::frames {

namespace {

void put_be(std::string& out, uint32_t v, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

bool known(char k) {
  const auto kind = static_cast<Kind>(k);
  return kind == Kind::input || kind == Kind::input_end || kind == Kind::resize || kind == Kind::output ||
         kind == Kind::exit;
}

}  // namespace

std::string encode(Kind k, std::string_view payload) {
  std::string out;
  out.reserve(5 + payload.size());
  out.push_back(static_cast<char>(k));
  put_be(out, static_cast<uint32_t>(payload.size()), 4);
  out.append(payload);
  return out;
}

std::string resize(uint16_t rows, uint16_t cols) {
  std::string p;
  put_be(p, rows, 2);
  put_be(p, cols, 2);
  return encode(Kind::resize, p);
}

Result<std::optional<Frame>> take(std::string& buf) {
  if (buf.empty()) return std::optional<Frame>();
  if (!known(buf[0])) return Error(EPROTO, "frame: unknown kind " + std::to_string(static_cast<unsigned char>(buf[0])));
  if (buf.size() < 5) return std::optional<Frame>();
  uint32_t len = 0;
  for (size_t i = 1; i < 5; ++i) len = len << 8 | static_cast<unsigned char>(buf[i]);
  if (len > kMaxPayload) return Error(EPROTO, "frame: payload of " + std::to_string(len) + " bytes is over the limit");
  if (buf.size() < 5 + len) return std::optional<Frame>();
  Frame f{static_cast<Kind>(buf[0]), buf.substr(5, len)};
  buf.erase(0, 5 + len);
  return std::optional<Frame>(std::move(f));
}

}  // namespace berth::client::frames
