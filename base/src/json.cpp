// json.cpp — recursive-descent JSON parser and writer.
#include "berth/base/json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace berth::json {

Value::Value(const Value&) = default;
Value::Value(Value&&) noexcept = default;
Value& Value::operator=(const Value&) = default;
Value& Value::operator=(Value&&) noexcept = default;
Value::~Value() = default;

Value::Value(unsigned long long v) {
  if (v <= static_cast<unsigned long long>(std::numeric_limits<int64_t>::max()))
    v_ = static_cast<int64_t>(v);
  else
    v_ = static_cast<uint64_t>(v);
}

Type Value::type() const {
  switch (v_.index()) {
    case kNull: return Type::null;
    case kBool: return Type::boolean;
    case kInt:
    case kUint:
    case kDouble: return Type::number;
    case kString: return Type::string;
    case kArray: return Type::array;
    default: return Type::object;
  }
}

int64_t Value::as_int() const {
  switch (v_.index()) {
    case kInt: return std::get<kInt>(v_);
    case kUint: return static_cast<int64_t>(std::get<kUint>(v_));
    case kDouble: return static_cast<int64_t>(std::get<kDouble>(v_));
    default: return 0;
  }
}

uint64_t Value::as_uint() const {
  switch (v_.index()) {
    case kInt: return static_cast<uint64_t>(std::get<kInt>(v_));
    case kUint: return std::get<kUint>(v_);
    case kDouble: return static_cast<uint64_t>(std::get<kDouble>(v_));
    default: return 0;
  }
}

double Value::as_double() const {
  switch (v_.index()) {
    case kInt: return static_cast<double>(std::get<kInt>(v_));
    case kUint: return static_cast<double>(std::get<kUint>(v_));
    case kDouble: return std::get<kDouble>(v_);
    default: return 0;
  }
}

namespace {
// What a value of another type answers when asked for a string, array or
// object. The writable ones are emptied on every use, so a write through a
// wrong-type answer is dropped rather than seen by the next caller.
const std::string kNoString;
const Array kNoArray;
const Object kNoObject;
thread_local Array scratch_array;
thread_local Object scratch_object;
}  // namespace

const std::string& Value::as_string() const { return is_string() ? std::get<kString>(v_) : kNoString; }
const Array& Value::as_array() const { return is_array() ? std::get<kArray>(v_) : kNoArray; }
const Object& Value::as_object() const { return is_object() ? std::get<kObject>(v_) : kNoObject; }

Array& Value::as_array() {
  if (is_array()) return std::get<kArray>(v_);
  scratch_array.clear();
  return scratch_array;
}

Object& Value::as_object() {
  if (is_object()) return std::get<kObject>(v_);
  scratch_object.clear();
  return scratch_object;
}

const Value* Value::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [k, v] : std::get<kObject>(v_))
    if (k == key) return &v;
  return nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

Value& Value::set(std::string_view key, Value v) {
  if (!is_object()) v_ = Object{};  // what it held is replaced, not written beside
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  Object& o = as_object();
  o.emplace_back(std::string(key), std::move(v));
  return o.back().second;
}

void Value::push_back(Value v) {
  if (is_null()) v_ = Array{};
  as_array().push_back(std::move(v));
}

const char* Value::type_name(Type t) {
  switch (t) {
    case Type::null: return "null";
    case Type::boolean: return "boolean";
    case Type::number: return "number";
    case Type::string: return "string";
    case Type::array: return "array";
    case Type::object: return "object";
  }
  return "?";
}

namespace {

constexpr int kMaxDepth = 512;

class Parser {
public:
  explicit Parser(std::string_view t) : t_(t) {}

  Result<Value> document() {
    skip_ws();
    Value v;
    if (!value(v, 0)) return fail();
    skip_ws();
    if (p_ != t_.size()) {
      err_ = "unexpected trailing characters";
      return fail();
    }
    return v;
  }

private:
  Error fail() const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p_ && i < t_.size(); ++i) {
      if (t_[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return Error::msg("line " + std::to_string(line) + " column " + std::to_string(col) + ": " + err_);
  }

  void skip_ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) ++p_;
  }

  bool expect(char c, const char* what) {
    if (p_ < t_.size() && t_[p_] == c) {
      ++p_;
      return true;
    }
    err_ = std::string("expected ") + what;
    return false;
  }

  bool literal(std::string_view word) {
    if (t_.substr(p_, word.size()) == word) {
      p_ += word.size();
      return true;
    }
    err_ = "invalid literal";
    return false;
  }

  bool value(Value& out, int depth) {
    if (depth > kMaxDepth) {
      err_ = "nesting too deep";
      return false;
    }
    if (p_ >= t_.size()) {
      err_ = "unexpected end of input";
      return false;
    }
    char c = t_[p_];
    switch (c) {
      case '{': return object(out, depth);
      case '[': return array(out, depth);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = Value(std::move(s));
        return true;
      }
      case 't':
        out = Value(true);
        return literal("true");
      case 'f':
        out = Value(false);
        return literal("false");
      case 'n':
        out = Value();
        return literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return number(out);
        err_ = std::string("unexpected character '") + c + "'";
        return false;
    }
  }

  bool object(Value& out, int depth) {
    ++p_;
    Object o;
    skip_ws();
    if (p_ < t_.size() && t_[p_] == '}') {
      ++p_;
      out = Value(std::move(o));
      return true;
    }
    for (;;) {
      skip_ws();
      std::string key;
      if (p_ >= t_.size() || t_[p_] != '"') {
        err_ = "expected object key";
        return false;
      }
      if (!string(key)) return false;
      skip_ws();
      if (!expect(':', "':'")) return false;
      skip_ws();
      Value v;
      if (!value(v, depth + 1)) return false;
      // Later duplicates win, as in Go's encoding/json.
      auto same = std::find_if(o.begin(), o.end(), [&](const auto& m) { return m.first == key; });
      if (same != o.end()) same->second = std::move(v);
      else o.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (!expect('}', "',' or '}'")) return false;
      out = Value(std::move(o));
      return true;
    }
  }

  bool array(Value& out, int depth) {
    ++p_;
    Array a;
    skip_ws();
    if (p_ < t_.size() && t_[p_] == ']') {
      ++p_;
      out = Value(std::move(a));
      return true;
    }
    for (;;) {
      skip_ws();
      Value v;
      if (!value(v, depth + 1)) return false;
      a.push_back(std::move(v));
      skip_ws();
      if (p_ < t_.size() && t_[p_] == ',') {
        ++p_;
        continue;
      }
      if (!expect(']', "',' or ']'")) return false;
      out = Value(std::move(a));
      return true;
    }
  }

  static void put_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80) {
      s += static_cast<char>(cp);
    } else if (cp < 0x800) {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += static_cast<char>(0xE0 | (cp >> 12));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      s += static_cast<char>(0xF0 | (cp >> 18));
      s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  bool hex4(uint32_t& cp) {
    if (p_ + 4 > t_.size()) {
      err_ = "truncated \\u escape";
      return false;
    }
    cp = 0;
    for (int i = 0; i < 4; ++i) {
      char h = t_[p_++];
      cp <<= 4;
      if (h >= '0' && h <= '9') cp |= h - '0';
      else if (h >= 'a' && h <= 'f') cp |= h - 'a' + 10;
      else if (h >= 'A' && h <= 'F') cp |= h - 'A' + 10;
      else {
        err_ = "bad \\u escape";
        return false;
      }
    }
    return true;
  }

  bool string(std::string& s) {
    ++p_;  // opening quote
    for (;;) {
      if (p_ >= t_.size()) {
        err_ = "unterminated string";
        return false;
      }
      size_t run = p_;
      while (run < t_.size() && t_[run] != '"' && t_[run] != '\\' && static_cast<unsigned char>(t_[run]) >= 0x20) ++run;
      s.append(t_.data() + p_, run - p_);
      p_ = run;
      if (p_ >= t_.size()) continue;  // reported as unterminated above
      char c = t_[p_++];
      if (c == '"') return true;
      if (c != '\\') {
        err_ = "control character in string";
        return false;
      }
      if (p_ >= t_.size()) {
        err_ = "unterminated escape";
        return false;
      }
      char e = t_[p_++];
      switch (e) {
        case '"': s += '"'; break;
        case '\\': s += '\\'; break;
        case '/': s += '/'; break;
        case 'b': s += '\b'; break;
        case 'f': s += '\f'; break;
        case 'n': s += '\n'; break;
        case 'r': s += '\r'; break;
        case 't': s += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF && p_ + 1 < t_.size() && t_[p_] == '\\' && t_[p_ + 1] == 'u') {
            p_ += 2;
            uint32_t lo;
            if (!hex4(lo)) return false;
            if (lo >= 0xDC00 && lo <= 0xDFFF) cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          }
          put_utf8(s, cp);
          break;
        }
        default:
          err_ = "bad escape";
          return false;
      }
    }
  }

  bool number(Value& out) {
    size_t start = p_;
    bool neg = false, integral = true;
    if (t_[p_] == '-') {
      neg = true;
      ++p_;
    }
    size_t digits = p_;
    while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
    if (p_ == digits) {
      err_ = "bad number";
      return false;
    }
    if (p_ < t_.size() && t_[p_] == '.') {
      integral = false;
      ++p_;
      size_t f = p_;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
      if (p_ == f) {
        err_ = "bad number";
        return false;
      }
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      integral = false;
      ++p_;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      size_t f = p_;
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
      if (p_ == f) {
        err_ = "bad number";
        return false;
      }
    }
    const char* first = t_.data() + start;
    const char* last = t_.data() + p_;
    if (integral) {
      if (neg) {
        int64_t v;
        if (std::from_chars(first, last, v).ec == std::errc()) {
          out = Value(static_cast<long>(v));
          return true;
        }
      } else {
        uint64_t v;
        if (std::from_chars(first, last, v).ec == std::errc()) {
          out = Value(static_cast<unsigned long long>(v));
          return true;
        }
      }
    }
    // Fractions, exponents and integers beyond 64 bits are doubles.
    double d = 0;
    if (std::from_chars(first, last, d).ec != std::errc()) d = std::strtod(std::string(first, last).c_str(), nullptr);
    out = Value(d);
    return true;
  }

  std::string_view t_;
  size_t p_ = 0;
  std::string err_;
};

void dump_to(std::string& out, const Value& v, bool pretty, int indent) {
  auto newline = [&](int level) {
    if (!pretty) return;
    out += '\n';
    out.append(static_cast<size_t>(level) * 2, ' ');
  };
  switch (v.type()) {
    case Type::null: out += "null"; break;
    case Type::boolean: out += v.as_bool() ? "true" : "false"; break;
    case Type::number:
      if (v.is_int() || v.is_uint()) {
        char buf[24];
        auto r = v.is_int() ? std::to_chars(buf, buf + sizeof buf, v.as_int()) : std::to_chars(buf, buf + sizeof buf, v.as_uint());
        out.append(buf, r.ptr);
      } else {
        double d = v.as_double();
        if (!std::isfinite(d)) {
          out += "null";
        } else {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.17g", d);
          out += buf;
        }
      }
      break;
    case Type::string: append_quoted(out, v.as_string()); break;
    case Type::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.as_array()) {
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        dump_to(out, e, pretty, indent + 1);
      }
      if (!v.as_array().empty()) newline(indent);
      out += ']';
      break;
    }
    case Type::object: {
      out += '{';
      bool first = true;
      for (const auto& [k, e] : v.as_object()) {
        if (!first) out += ',';
        first = false;
        newline(indent + 1);
        append_quoted(out, k);
        out += pretty ? ": " : ":";
        dump_to(out, e, pretty, indent + 1);
      }
      if (!v.as_object().empty()) newline(indent);
      out += '}';
      break;
    }
  }
}

}  // namespace

Result<Value> parse(std::string_view text) { return Parser(text).document(); }

std::string dump(const Value& v, bool pretty) {
  std::string out;
  dump_to(out, v, pretty, 0);
  return out;
}

void append_quoted(std::string& out, std::string_view s) {
  static const char* hex = "0123456789abcdef";
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size() && s[run] != '"' && s[run] != '\\' && static_cast<unsigned char>(s[run]) >= 0x20) ++run;
    out.append(s.data() + i, run - i);
    if (run == s.size()) break;
    char c = s[run];
    i = run + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        out += "\\u00";
        out += hex[(c >> 4) & 0xF];
        out += hex[c & 0xF];
    }
  }
  out += '"';
}

}  // namespace berth::json
