// json.h — a small JSON document model, parser and writer (no dependencies).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
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
///
/// A value holds one alternative at a time (40 bytes): a 500-container list is
/// tens of thousands of values, parsed by every CLI call and built by berthd.
/// Asking a value for a type it does not hold gives that type's empty value
/// (false, 0, "", [] or {}); writes through such an answer are not kept.
/// Assigning a value from a part of itself (v = std::move(*v.find("k")))
/// must go through a temporary: the old contents go first.
class Value {
public:
  Value() = default;
  Value(std::nullptr_t) {}
  Value(bool b) : v_(b) {}
  Value(int v) : Value(static_cast<int64_t>(v)) {}
  Value(long v) : v_(static_cast<int64_t>(v)) {}
  Value(long long v) : Value(static_cast<long>(v)) {}
  Value(unsigned v) : Value(static_cast<uint64_t>(v)) {}
  Value(unsigned long v) : Value(static_cast<unsigned long long>(v)) {}
  Value(unsigned long long v);
  Value(double v) : v_(v) {}
  Value(const char* s) : v_(std::string(s)) {}
  Value(std::string s) : v_(std::move(s)) {}
  Value(std::string_view s) : v_(std::string(s)) {}
  Value(Array a) : v_(std::move(a)) {}
  Value(Object o) : v_(std::move(o)) {}

  // Out of line: inlined at every caller, the variant's copies and moves
  // draw GCC 12's false maybe-uninitialized warnings.
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;
  ~Value();

  static Value array() { return Value(Array{}); }
  static Value object() { return Value(Object{}); }

  Type type() const;
  bool is_null() const { return v_.index() == kNull; }
  bool is_bool() const { return v_.index() == kBool; }
  bool is_number() const { return v_.index() == kInt || v_.index() == kUint || v_.index() == kDouble; }
  bool is_string() const { return v_.index() == kString; }
  bool is_array() const { return v_.index() == kArray; }
  bool is_object() const { return v_.index() == kObject; }
  /// True for a number written without fraction or exponent that fits int64.
  bool is_int() const { return v_.index() == kInt; }
  /// True for a non-negative integral number that fits uint64.
  bool is_uint() const { return v_.index() == kUint || (v_.index() == kInt && std::get<kInt>(v_) >= 0); }

  bool as_bool() const { return v_.index() == kBool && std::get<kBool>(v_); }
  int64_t as_int() const;
  uint64_t as_uint() const;
  double as_double() const;
  const std::string& as_string() const;
  const Array& as_array() const;
  Array& as_array();
  const Object& as_object() const;
  Object& as_object();

  /// Member lookup on an object; nullptr when absent or not an object.
  const Value* find(std::string_view key) const;
  Value* find(std::string_view key);
  /// Inserts (or replaces) a member; turns null (or any other non-object)
  /// into an object.
  Value& set(std::string_view key, Value v);
  /// Appends to an array; turns null into an array.
  void push_back(Value v);

  /// A name for error messages: "string", "number", ...
  static const char* type_name(Type t);

private:
  enum : size_t { kNull, kBool, kInt, kUint, kDouble, kString, kArray, kObject };
  // kUint holds only integers above INT64_MAX; smaller ones are kInt.
  std::variant<std::monostate, bool, int64_t, uint64_t, double, std::string, Array, Object> v_;
};

/// Parses a whole document; errors say "line L column C: what".
/// Nesting deeper than 512 levels is refused.
Result<Value> parse(std::string_view text);

/// Serialises compactly, or with two-space indentation when pretty.
std::string dump(const Value& v, bool pretty = false);

/// Appends s as a JSON string literal (with quotes) to out.
void append_quoted(std::string& out, std::string_view s);

}  // namespace berth::json
