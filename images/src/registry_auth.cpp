// registry_auth.cpp — credentials and WWW-Authenticate challenges (pure).
#include <cctype>

#include "berth/base/fs.h"
#include "berth/images/registry.h"

namespace berth::images {

Result<Credentials> parse_credentials(std::string_view text, std::string_view field) {
  std::string f(field);
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Error::msg(f + ": expected user:password (no ':' found)");
  Credentials c{std::string(text.substr(0, colon)), std::string(text.substr(colon + 1))};
  if (c.username.empty()) return Error::msg(f + ": empty user name before ':'");
  for (unsigned char ch : c.username)
    if (ch < 0x20 || ch == 0x7f) return Error::msg(f + ": user name holds a control character");
  for (unsigned char ch : c.password)
    if (ch < 0x20 || ch == 0x7f) return Error::msg(f + ": password holds a control character");
  return c;
}

Result<Credentials> read_credentials_file(const std::string& path) {
  std::string text = BERTH_TRY_CTX(fs::read_file(path, 64 * 1024), "credentials file");
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return parse_credentials(text, "credentials file " + path);
}

const std::string* AuthChallenge::param(std::string_view name) const {
  for (const auto& [k, v] : params)
    if (k == name) return &v;
  return nullptr;
}

namespace {

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A cursor over the header value; errors say where parsing stopped.
class Scanner {
public:
  explicit Scanner(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  size_t pos() const { return i_; }
  void seek(size_t p) { i_ = p; }
  void skip_spaces() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t')) ++i_;
  }
  void skip_spaces_and_commas() {
    while (!done() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == ',')) ++i_;
  }
  std::string_view token() {
    size_t start = i_;
    while (!done() && is_tchar(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  Result<std::string> quoted() {
    size_t start = i_++;
    std::string out;
    while (!done()) {
      char c = s_[i_++];
      if (c == '"') return out;
      if (c == '\\') {
        if (done()) break;
        c = s_[i_++];
      }
      out += c;
    }
    return error_at(start, "unterminated quoted string");
  }
  Error error_at(size_t p, std::string_view what) const {
    return Error::msg("WWW-Authenticate: column " + std::to_string(p + 1) + ": " + std::string(what));
  }
  Error error(std::string_view what) const { return error_at(i_, what); }

private:
  std::string_view s_;
  size_t i_ = 0;
};

// The auth-params (or token68) after a scheme, up to the next challenge.
Status parse_params(Scanner& sc, AuthChallenge& ch) {
  for (;;) {
    sc.skip_spaces_and_commas();
    size_t save = sc.pos();
    std::string_view name = sc.token();
    if (name.empty()) {
      if (sc.done()) return {};
      return sc.error("unexpected character '" + std::string(1, sc.peek()) + "'");
    }
    sc.skip_spaces();
    if (sc.peek() != '=') {
      sc.seek(save);  // the scheme of the next challenge
      return {};
    }
    size_t eqs = 0;
    for (; sc.peek() == '='; ++eqs) sc.seek(sc.pos() + 1);
    sc.skip_spaces();
    if (eqs > 1 || sc.done() || sc.peek() == ',') {
      // token68 ("Basic dXNlcg=="), only right after the scheme.
      if (!ch.params.empty() || !ch.token68.empty()) return sc.error_at(save, "auth-param without a value");
      ch.token68 = std::string(name) + std::string(eqs, '=');
      continue;
    }
    std::string value;
    if (sc.peek() == '"') {
      value = BERTH_TRY(sc.quoted());
    } else {
      value = std::string(sc.token());
      if (value.empty()) return sc.error("expected a token or quoted string after '='");
    }
    if (ch.params.size() >= 64) return sc.error("more than 64 parameters");
    ch.params.emplace_back(lower(name), std::move(value));
    sc.skip_spaces();
    if (!sc.done() && sc.peek() != ',') return sc.error("expected ',' between parameters");
  }
}

}  // namespace

Result<std::vector<AuthChallenge>> parse_www_authenticate(std::string_view header) {
  if (header.size() > 16 * 1024) return Error::msg("WWW-Authenticate: longer than 16 KiB");
  std::vector<AuthChallenge> out;
  Scanner sc(header);
  for (;;) {
    sc.skip_spaces_and_commas();
    if (sc.done()) break;
    std::string_view scheme = sc.token();
    if (scheme.empty()) return sc.error("expected an auth scheme");
    if (out.size() >= 16) return sc.error("more than 16 challenges");
    AuthChallenge ch;
    ch.scheme = lower(scheme);
    if (!sc.done() && sc.peek() != ' ' && sc.peek() != '\t' && sc.peek() != ',')
      return sc.error("expected a space after the auth scheme");
    BERTH_TRY(parse_params(sc, ch));
    out.push_back(std::move(ch));
  }
  if (out.empty()) return Error::msg("WWW-Authenticate: no challenge");
  return out;
}

}  // namespace berth::images
