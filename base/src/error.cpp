// error.cpp — Error formatting.
#include "berth/base/error.h"

#include <cstring>

namespace berth {

Error Error::wrap(std::string_view context) const& {
  Error e = *this;
  return std::move(e).wrap(context);
}

Error Error::wrap(std::string_view context) && {
  std::string m;
  m.reserve(context.size() + 2 + message_.size());
  m.append(context);
  m.append(": ");
  m.append(message_);
  message_ = std::move(m);
  return std::move(*this);
}

std::string Error::what() const {
  if (code_ == 0) return message_;
  return message_ + ": " + std::strerror(code_);
}

}  // namespace berth
