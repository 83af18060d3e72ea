// api.cpp — answers, operations and exit statuses; see api.h.
#include "berth/client/api.h"

namespace berth::client {

int code_for_status(int status) {
  switch (status) {
    case 400:
    case 405:
    case 413: return EINVAL;
    case 404: return ENOENT;
    case 409: return EEXIST;
    default: return EIO;
  }
}

int exit_status(const Error& e) {
  switch (e.code()) {
    case EINVAL: return kUsage;
    case ENOENT: return kNotFound;
    case EEXIST: return kConflict;
    case EHOSTUNREACH: return kUnreachable;
    default: return kFailed;
  }
}

std::string error_text(const Error& e) {
  switch (e.code()) {
    case EINVAL:
    case ENOENT:
    case EEXIST:
    case EHOSTUNREACH:
    case EIO:
    case EPROTO:
    case 0: return e.message();
    default: return e.what();
  }
}

Error answer_error(const Response& r) {
  auto doc = json::parse(r.body);
  const json::Value* e = doc && doc->is_object() ? doc->find("error") : nullptr;
  return Error(code_for_status(r.status), e && e->is_string() ? e->as_string() : r.body);
}

Result<json::Value> expect_ok(const Response& r) {
  if (r.status < 200 || r.status >= 300) return answer_error(r);
  auto v = json::parse(r.body);
  if (!v) return Error(EPROTO, "malformed JSON from berthd: " + v.error().what());
  return std::move(*v);  // a copy of a 500-container list costs milliseconds
}

Result<json::Value> operation_outcome(const json::Value& done) {
  const json::Value* status = done.find("status");
  if (!status || !status->is_string() || status->as_string() != "success") {
    const json::Value* e = done.find("error");
    std::string msg = e && e->is_string() ? e->as_string() : json::dump(done);
    const json::Value* code = done.find("code");
    return Error(code && code->is_uint() ? code_for_status(static_cast<int>(code->as_uint())) : EIO, msg);
  }
  const json::Value* result = done.find("result");
  return result ? *result : json::Value();
}

Result<Response> Api::call(std::string_view method, std::string_view target, std::string_view body) const {
  return client::call(endpoint_, method, target, body);
}

Result<json::Value> Api::json(std::string_view method, std::string_view target, std::string_view body) const {
  return expect_ok(BERTH_TRY(call(method, target, body)));
}

Result<json::Value> Api::run_operation(std::string_view method, std::string_view target, std::string_view body) const {
  json::Value op = BERTH_TRY(json(method, target, body));
  const json::Value* id = op.find("id");
  if (!id || !id->is_string()) return Error(EPROTO, "no operation id in berthd's answer");
  return operation_outcome(BERTH_TRY(json("GET", "/v1/operations/" + id->as_string() + "/wait")));
}

}  // namespace berth::client
