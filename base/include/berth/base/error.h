// error.h — errno-carrying errors and Result<T>, the one error idiom of berth.
#pragma once

#include <cerrno>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace berth {

/// An error: the errno it came from (0 if none) and a message that names the
/// operation first and then the object ("open /run/berth/x/state.json").
/// Each layer prepends its own context with wrap().
class Error {
public:
  Error() = default;
  Error(int code, std::string message) : code_(code), message_(std::move(message)) {}

  /// An error from the current errno, e.g. Error::os("mount /proc").
  static Error os(std::string message) { return Error(errno, std::move(message)); }
  /// An error with no errno (bad input, protocol violations).
  static Error msg(std::string message) { return Error(0, std::move(message)); }

  int code() const { return code_; }
  const std::string& message() const { return message_; }

  /// Adds context in front: "create abc: " + message.
  Error wrap(std::string_view context) const&;
  Error wrap(std::string_view context) &&;

  /// The full text: message, plus ": strerror" when there is an errno.
  std::string what() const;

private:
  int code_ = 0;
  std::string message_;
};

template <class T>
class [[nodiscard]] Result {
public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}

  explicit operator bool() const { return v_.index() == 0; }
  bool ok() const { return v_.index() == 0; }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return std::get<0>(v_); }
  const T& operator*() const& { return std::get<0>(v_); }
  T&& operator*() && { return std::get<0>(std::move(v_)); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), failed_(true) {}

  explicit operator bool() const { return !failed_; }
  bool ok() const { return !failed_; }
  void value() const {}
  const Error& error() const& { return err_; }
  Error&& error() && { return std::move(err_); }

private:
  Error err_;
  bool failed_ = false;
};

using Status = Result<void>;

inline Status ok() { return {}; }

}  // namespace berth

/// Evaluates a Result-returning expression; on failure returns its error from
/// the enclosing function, otherwise yields the value.
#define BERTH_TRY(expr)                                   \
  ({                                                      \
    auto _berth_r = (expr);                               \
    if (!_berth_r) return std::move(_berth_r).error();    \
    std::move(_berth_r).value();                          \
  })

/// Like BERTH_TRY, but wraps the error with a context string first.
#define BERTH_TRY_CTX(expr, ctx)                                   \
  ({                                                               \
    auto _berth_r = (expr);                                        \
    if (!_berth_r) return std::move(_berth_r).error().wrap(ctx);   \
    std::move(_berth_r).value();                                   \
  })
