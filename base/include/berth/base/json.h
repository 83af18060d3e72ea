// json.h — a small JSON document model, parser and writer (no dependencies).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "berth/base/error.h"

namespace berth::json {

class Value;
using Array = std::vector<Value>;
using Member = std::pair<std::string, Value>;
using Object = std::vector<Member>;  // keeps insertion order, as runc's output does

enum class Type { null, boolean, number, string, array, object };

/// One JSON value. Numbers keep whether they were written as integers, so
/// 64-bit limits such as memory.limit round-trip exactly.
class Value {
public:
  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : type_(Type::boolean), b_(b) {}
  Value(int v) : Value(static_cast<int64_t>(v)) {}
  Value(long v) : type_(Type::number), num_(Num::int_), i_(v) {}
  Value(long long v) : Value(static_cast<long>(v)) {}
  Value(unsigned v) : Value(static_cast<uint64_t>(v)) {}
  Value(unsigned long v) : Value(static_cast<unsigned long long>(v)) {}
  Value(unsigned long long v);
  Value(double v) : type_(Type::number), num_(Num::double_), d_(v) {}
  Value(const char* s) : type_(Type::string), s_(s) {}
  Value(std::string s) : type_(Type::string), s_(std::move(s)) {}
  Value(std::string_view s) : type_(Type::string), s_(s) {}
  Value(Array a) : type_(Type::array), a_(std::move(a)) {}
  Value(Object o) : type_(Type::object), o_(std::move(o)) {}

  static Value array() { return Value(Array{}); }
  static Value object() { return Value(Object{}); }

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::null; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_number() const { return type_ == Type::number; }
  bool is_string() const { return type_ == Type::string; }
  bool is_array() const { return type_ == Type::array; }
  bool is_object() const { return type_ == Type::object; }
  /// True for a number written without fraction or exponent that fits int64.
  bool is_int() const { return type_ == Type::number && num_ == Num::int_; }
  /// True for a non-negative integral number that fits uint64.
  bool is_uint() const {
    return type_ == Type::number && (num_ == Num::uint_ || (num_ == Num::int_ && i_ >= 0));
  }

  bool as_bool() const { return b_; }
  int64_t as_int() const;
  uint64_t as_uint() const;
  double as_double() const;
  const std::string& as_string() const { return s_; }
  const Array& as_array() const { return a_; }
  Array& as_array() { return a_; }
  const Object& as_object() const { return o_; }
  Object& as_object() { return o_; }

  /// Member lookup on an object; nullptr when absent or not an object.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  /// Inserts (or replaces) a member; turns null into an object.
  Value& set(std::string_view key, Value v);
  /// Appends to an array; turns null into an array.
  void push_back(Value v);

  /// A name for error messages: "string", "number", ...
  static const char* type_name(Type t);

private:
  enum class Num { int_, uint_, double_ };
  Type type_ = Type::null;
  Num num_ = Num::int_;
  bool b_ = false;
  int64_t i_ = 0;
  uint64_t u_ = 0;
  double d_ = 0;
  std::string s_;
  Array a_;
  Object o_;
};

/// Parses a whole document; errors say "line L column C: what".
/// Nesting deeper than 512 levels is refused.
Result<Value> parse(std::string_view text);

/// Serialises compactly, or with two-space indentation when pretty.
std::string dump(const Value& v, bool pretty = false);

/// Appends s as a JSON string literal (with quotes) to out.
void append_quoted(std::string& out, std::string_view s);

}  // namespace berth::json
