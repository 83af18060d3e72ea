// json.cpp — recursive-descent JSON parser and writer.
#include "berth/base/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace berth::json {

Value::Value(unsigned long long v) : type_(Type::number) {
  if (v <= static_cast<unsigned long long>(std::numeric_limits<int64_t>::max())) {
    num_ = Num::int_;
    i_ = static_cast<int64_t>(v);
  } else {
    num_ = Num::uint_;
    u_ = v;
  }
}

int64_t Value::as_int() const {
  switch (num_) {
    case Num::int_: return i_;
    case Num::uint_: return static_cast<int64_t>(u_);
    case Num::double_: return static_cast<int64_t>(d_);
  }
  return 0;
}

uint64_t Value::as_uint() const {
  switch (num_) {
    case Num::int_: return static_cast<uint64_t>(i_);
    case Num::uint_: return u_;
    case Num::double_: return static_cast<uint64_t>(d_);
  }
  return 0;
}

double Value::as_double() const {
  switch (num_) {
    case Num::int_: return static_cast<double>(i_);
    case Num::uint_: return static_cast<double>(u_);
    case Num::double_: return d_;
  }
  return 0;
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::object) return nullptr;
  for (const auto& [k, v] : o_)
    if (k == key) return &v;
  return nullptr;
}

Value* Value::find(std::string_view key) {
  return const_cast<Value*>(static_cast<const Value*>(this)->find(key));
}

Value& Value::set(std::string_view key, Value v) {
  if (type_ == Type::null) type_ = Type::object;
  if (Value* existing = find(key)) {
    *existing = std::move(v);
    return *existing;
  }
  o_.emplace_back(std::string(key), std::move(v));
  return o_.back().second;
}

void Value::push_back(Value v) {
  if (type_ == Type::null) type_ = Type::array;
  a_.push_back(std::move(v));
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
      bool replaced = false;
      for (auto& m : o)
        if (m.first == key) {
          m.second = std::move(v);
          replaced = true;
          break;
        }
      if (!replaced) o.emplace_back(std::move(key), std::move(v));
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
      char c = t_[p_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) {
        err_ = "control character in string";
        return false;
      }
      if (c != '\\') {
        s += c;
        continue;
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
    std::string text(t_.substr(start, p_ - start));
    if (integral) {
      errno = 0;
      if (neg) {
        long long v = std::strtoll(text.c_str(), nullptr, 10);
        if (errno == 0) {
          out = Value(v);
          return true;
        }
      } else {
        unsigned long long v = std::strtoull(text.c_str(), nullptr, 10);
        if (errno == 0) {
          out = Value(v);
          return true;
        }
      }
    }
    out = Value(std::strtod(text.c_str(), nullptr));
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
      if (v.is_int()) {
        out += std::to_string(v.as_int());
      } else if (v.is_uint()) {
        out += std::to_string(v.as_uint());
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
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += hex[(c >> 4) & 0xF];
          out += hex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace berth::json
