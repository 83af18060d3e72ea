// etcd_codec.cpp — request bodies and response parsers of etcd's JSON
// gateway: base64 keys and values, int64 fields as strings, fields at
// their default value omitted (a PUT event has no "type").
#include <cerrno>
#include <cstdlib>

#include <openssl/evp.h>

#include "berth/base/json.h"
#include "berth/cluster/etcd.h"

namespace berth::cluster {

std::string prefix_end(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty()) {
    auto& c = reinterpret_cast<unsigned char&>(end.back());
    if (c < 0xff) {
      ++c;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // the whole key space
}

namespace codec {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// int64 fields arrive as strings ("42"); numbers are accepted too.
Result<int64_t> i64(const json::Value* v, std::string_view field) {
  if (!v) return int64_t{0};
  if (v->is_int()) return v->as_int();
  if (v->is_string()) {
    const std::string& s = v->as_string();
    char* endp = nullptr;
    errno = 0;
    long long n = std::strtoll(s.c_str(), &endp, 10);
    if (!s.empty() && endp && *endp == '\0' && errno == 0) return static_cast<int64_t>(n);
  }
  return Error(EPROTO, std::string(field) + ": expected an int64");
}

Result<std::string> bytes(const json::Value* v, std::string_view field) {
  if (!v) return std::string();
  if (!v->is_string()) return Error(EPROTO, std::string(field) + ": expected a base64 string");
  auto r = base64_decode(v->as_string());
  if (!r) return r.error().wrap(field);
  return r;
}

Result<json::Value> parse_object(std::string_view body) {
  auto doc = json::parse(body);
  if (!doc) return Error(EPROTO, "etcd answer: " + doc.error().message());
  if (!doc->is_object()) return Error(EPROTO, "etcd answer: expected an object");
  return doc;
}

Result<KeyValue> parse_kv(const json::Value& v) {
  if (!v.is_object()) return Error(EPROTO, "kv: expected an object");
  KeyValue kv;
  kv.key = BERTH_TRY(bytes(v.find("key"), "kv.key"));
  kv.value = BERTH_TRY(bytes(v.find("value"), "kv.value"));
  kv.create_revision = BERTH_TRY(i64(v.find("create_revision"), "kv.create_revision"));
  kv.mod_revision = BERTH_TRY(i64(v.find("mod_revision"), "kv.mod_revision"));
  kv.version = BERTH_TRY(i64(v.find("version"), "kv.version"));
  kv.lease = BERTH_TRY(i64(v.find("lease"), "kv.lease"));
  return kv;
}

Result<int64_t> header_revision(const json::Value& doc) {
  const json::Value* h = doc.find("header");
  if (!h || !h->is_object()) return Error(EPROTO, "etcd answer: no header");
  return i64(h->find("revision"), "header.revision");
}

Result<RangeResult> range_from(const json::Value& doc) {
  RangeResult r;
  r.revision = BERTH_TRY(header_revision(doc));
  r.count = BERTH_TRY(i64(doc.find("count"), "count"));
  if (const json::Value* kvs = doc.find("kvs")) {
    if (!kvs->is_array()) return Error(EPROTO, "kvs: expected an array");
    for (const auto& v : kvs->as_array()) r.kvs.push_back(BERTH_TRY(parse_kv(v)));
  }
  return r;
}

json::Value op_json(const Op& op) {
  json::Value inner = json::Value::object();
  inner.set("key", base64_encode(op.key));
  switch (op.kind) {
    case Op::Kind::put: {
      inner.set("value", base64_encode(op.value));
      if (op.lease) inner.set("lease", std::to_string(op.lease));
      json::Value v = json::Value::object();
      v.set("request_put", std::move(inner));
      return v;
    }
    case Op::Kind::del: {
      if (!op.range_end.empty()) inner.set("range_end", base64_encode(op.range_end));
      json::Value v = json::Value::object();
      v.set("request_delete_range", std::move(inner));
      return v;
    }
    case Op::Kind::range: break;
  }
  if (!op.range_end.empty()) inner.set("range_end", base64_encode(op.range_end));
  json::Value v = json::Value::object();
  v.set("request_range", std::move(inner));
  return v;
}

const char* target_name(Compare::Target t) {
  switch (t) {
    case Compare::Target::version: return "VERSION";
    case Compare::Target::create: return "CREATE";
    case Compare::Target::mod: return "MOD";
    case Compare::Target::value: return "VALUE";
  }
  return "MOD";
}

const char* result_name(Compare::Result r) {
  switch (r) {
    case Compare::Result::equal: return "EQUAL";
    case Compare::Result::greater: return "GREATER";
    case Compare::Result::less: return "LESS";
    case Compare::Result::not_equal: return "NOT_EQUAL";
  }
  return "EQUAL";
}

json::Value compare_json(const Compare& c) {
  json::Value v = json::Value::object();
  v.set("target", target_name(c.target));
  v.set("result", result_name(c.result));
  v.set("key", base64_encode(c.key));
  switch (c.target) {
    case Compare::Target::version: v.set("version", std::to_string(c.number)); break;
    case Compare::Target::create: v.set("create_revision", std::to_string(c.number)); break;
    case Compare::Target::mod: v.set("mod_revision", std::to_string(c.number)); break;
    case Compare::Target::value: v.set("value", base64_encode(c.value)); break;
  }
  return v;
}

// The gRPC status codes etcd answers with, as errnos a caller can test.
int errno_of_grpc(int64_t code) {
  switch (code) {
    case 3: return EINVAL;       // INVALID_ARGUMENT
    case 4: return ETIMEDOUT;    // DEADLINE_EXCEEDED
    case 5: return ENOENT;       // NOT_FOUND
    case 6: return EEXIST;       // ALREADY_EXISTS
    case 7: return EACCES;       // PERMISSION_DENIED
    case 8: return ENOSPC;       // RESOURCE_EXHAUSTED (quota, NOSPACE alarm)
    case 9: return EAGAIN;       // FAILED_PRECONDITION
    case 11: return ERANGE;      // OUT_OF_RANGE (compacted revision)
    case 14: return ECONNRESET;  // UNAVAILABLE (no leader, member stopping)
    case 16: return EACCES;      // UNAUTHENTICATED
    default: return EIO;
  }
}

}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');  // EVP_EncodeBlock adds a NUL
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

Result<std::string> base64_decode(std::string_view in) {
  // OpenSSL decodes; the checks around it keep the form strict (OpenSSL
  // skips blanks at either end and counts padding as zero bytes).
  if (in.size() % 4 != 0)
    return Error(EPROTO, "base64: length " + std::to_string(in.size()) + " is not a multiple of 4");
  size_t pad = 0;
  while (pad < 2 && pad < in.size() && in[in.size() - 1 - pad] == '=') ++pad;
  size_t bad = in.find_first_not_of(kAlphabet);
  if (bad < in.size() - pad) {
    if (in[bad] == '=') return Error(EPROTO, "base64: data after padding");
    return Error(EPROTO, "base64: bad character at offset " + std::to_string(bad));
  }
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  if (n < 0) return Error(EPROTO, "base64: not decodable");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string range_request(std::string_view key, std::string_view end, int64_t limit, bool keys_only) {
  json::Value v = json::Value::object();
  v.set("key", base64_encode(key));
  if (!end.empty()) v.set("range_end", base64_encode(end));
  if (limit > 0) v.set("limit", std::to_string(limit));
  if (keys_only) v.set("keys_only", true);
  return json::dump(v);
}

std::string put_request(std::string_view key, std::string_view value, int64_t lease) {
  json::Value v = json::Value::object();
  v.set("key", base64_encode(key));
  v.set("value", base64_encode(value));
  if (lease) v.set("lease", std::to_string(lease));
  return json::dump(v);
}

std::string delete_request(std::string_view key, std::string_view end) {
  json::Value v = json::Value::object();
  v.set("key", base64_encode(key));
  if (!end.empty()) v.set("range_end", base64_encode(end));
  return json::dump(v);
}

std::string txn_request(const std::vector<Compare>& cmp, const std::vector<Op>& success,
                        const std::vector<Op>& failure) {
  json::Value v = json::Value::object();
  json::Value c = json::Value::array(), s = json::Value::array(), f = json::Value::array();
  for (const auto& x : cmp) c.push_back(compare_json(x));
  for (const auto& x : success) s.push_back(op_json(x));
  for (const auto& x : failure) f.push_back(op_json(x));
  v.set("compare", std::move(c));
  v.set("success", std::move(s));
  v.set("failure", std::move(f));
  return json::dump(v);
}

std::string lease_grant_request(int64_t ttl) { return "{\"TTL\":\"" + std::to_string(ttl) + "\"}"; }
std::string lease_id_request(int64_t id) { return "{\"ID\":\"" + std::to_string(id) + "\"}"; }

std::string authenticate_request(std::string_view name, std::string_view password) {
  json::Value v = json::Value::object();
  v.set("name", name);
  v.set("password", password);
  return json::dump(v);
}

Result<std::string> parse_token(std::string_view body) {
  auto doc = BERTH_TRY(parse_object(body));
  const json::Value* t = doc.find("token");
  if (!t || !t->is_string() || t->as_string().empty()) return Error(EPROTO, "authenticate: no token in the answer");
  return t->as_string();
}

bool token_refused(std::string_view body) {
  // etcd's refusals of a token it does not know (expired, or issued
  // before a restart), of none, and of one older than the auth store.
  for (std::string_view why : {"invalid auth token", "user name is empty", "revision in header is old"})
    if (body.find(why) != std::string_view::npos) return true;
  return false;
}

std::string watch_request(std::string_view key, std::string_view end, int64_t start_revision) {
  json::Value c = json::Value::object();
  c.set("key", base64_encode(key));
  if (!end.empty()) c.set("range_end", base64_encode(end));
  if (start_revision > 0) c.set("start_revision", std::to_string(start_revision));
  json::Value v = json::Value::object();
  v.set("create_request", std::move(c));
  return json::dump(v);
}

Error error_from(long http_status, std::string_view body) {
  auto doc = json::parse(body);
  if (doc && doc->is_object()) {
    const json::Value* msg = doc->find("message");
    if (!msg) msg = doc->find("error");
    auto code = i64(doc->find("code"), "code");
    if (msg && msg->is_string())
      return Error(errno_of_grpc(code ? *code : 2), msg->as_string() + " (HTTP " + std::to_string(http_status) + ")");
  }
  std::string text(body.substr(0, 200));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return Error(http_status >= 500 ? EIO : EPROTO,
               "HTTP " + std::to_string(http_status) + (text.empty() ? "" : ": " + text));
}

Result<RangeResult> parse_range(std::string_view body) {
  auto doc = BERTH_TRY(parse_object(body));
  return range_from(doc);
}

Result<int64_t> parse_revision(std::string_view body) {
  auto doc = BERTH_TRY(parse_object(body));
  return header_revision(doc);
}

Result<TxnResult> parse_txn(std::string_view body) {
  auto doc = BERTH_TRY(parse_object(body));
  TxnResult t;
  t.revision = BERTH_TRY(header_revision(doc));
  const json::Value* ok = doc.find("succeeded");
  t.succeeded = ok && ok->is_bool() && ok->as_bool();
  if (const json::Value* rs = doc.find("responses")) {
    if (!rs->is_array()) return Error(EPROTO, "responses: expected an array");
    for (const auto& r : rs->as_array()) {
      const json::Value* rr = r.find("response_range");
      if (!rr) continue;
      if (!rr->find("header")) {
        // Nested range answers may omit an empty header; keep the txn's.
        json::Value copy = *rr;
        json::Value h = json::Value::object();
        h.set("revision", std::to_string(t.revision));
        copy.set("header", std::move(h));
        t.ranges.push_back(BERTH_TRY(range_from(copy)));
      } else {
        t.ranges.push_back(BERTH_TRY(range_from(*rr)));
      }
    }
  }
  return t;
}

Result<Lease> parse_lease_grant(std::string_view body) {
  auto doc = BERTH_TRY(parse_object(body));
  if (const json::Value* e = doc.find("error"); e && e->is_string() && !e->as_string().empty())
    return Error(EIO, "lease grant: " + e->as_string());
  Lease l;
  l.id = BERTH_TRY(i64(doc.find("ID"), "ID"));
  l.ttl = BERTH_TRY(i64(doc.find("TTL"), "TTL"));
  if (l.id == 0) return Error(EPROTO, "lease grant: no ID in the answer");
  return l;
}

Result<int64_t> parse_keepalive(std::string_view body) {
  auto doc = BERTH_TRY(parse_object(body));
  const json::Value* r = doc.find("result");
  if (!r) {
    if (doc.find("error")) return error_from(200, body);
    return Error(EPROTO, "keepalive: no result");
  }
  return i64(r->find("TTL"), "result.TTL");
}

Result<WatchBatch> parse_watch(std::string_view line) {
  auto doc = BERTH_TRY(parse_object(line));
  const json::Value* r = doc.find("result");
  if (!r) {
    if (doc.find("error")) return error_from(200, line);
    return Error(EPROTO, "watch: no result");
  }
  WatchBatch b;
  b.revision = BERTH_TRY(header_revision(*r));
  const json::Value* f;
  b.created = (f = r->find("created")) && f->is_bool() && f->as_bool();
  b.canceled = (f = r->find("canceled")) && f->is_bool() && f->as_bool();
  b.compact_revision = BERTH_TRY(i64(r->find("compact_revision"), "compact_revision"));
  if ((f = r->find("cancel_reason")) && f->is_string()) b.cancel_reason = f->as_string();
  if (const json::Value* evs = r->find("events")) {
    if (!evs->is_array()) return Error(EPROTO, "events: expected an array");
    for (const auto& e : evs->as_array()) {
      WatchEvent ev;
      const json::Value* t = e.find("type");
      if (t && t->is_string() && t->as_string() == "DELETE") ev.type = WatchEvent::Type::del;
      else if (t && !(t->is_string() && t->as_string() == "PUT"))
        return Error(EPROTO, "event type: expected PUT or DELETE");
      const json::Value* kv = e.find("kv");
      if (!kv) return Error(EPROTO, "event: no kv");
      ev.kv = BERTH_TRY(parse_kv(*kv));
      b.events.push_back(std::move(ev));
    }
  }
  return b;
}

}  // namespace codec
}  // namespace berth::cluster
