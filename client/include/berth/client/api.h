// api.h — berthd's API as the client sees it: answers as JSON or as
// errors, operations followed to their end, and what each failure means
// as berth's exit status.
#pragma once

#include <string>
#include <string_view>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/client/http.h"

namespace berth::client {

/// berth(1)'s exit statuses.
enum Exit : int { kFailed = 1, kUsage = 2, kNotFound = 3, kConflict = 4, kUnreachable = 5 };

/// The errno an HTTP status of berthd stands for: EINVAL (400, 405, 413),
/// ENOENT (404), EEXIST (409), else EIO.
int code_for_status(int status);

/// The exit status an error's code means: kUsage for EINVAL, kNotFound for
/// ENOENT, kConflict for EEXIST, kUnreachable for EHOSTUNREACH (what
/// http.h gives when berthd cannot be reached), else kFailed.
int exit_status(const Error& e);

/// An error as berth prints it: the message alone for the codes above and
/// EPROTO, whose messages say it all; else with strerror (Error::what()).
std::string error_text(const Error& e);

/// The error of an answer that is not 2xx: berthd's {"error": ...} (the
/// body when it has none), coded by code_for_status().
Error answer_error(const Response& r);

/// The answer's JSON document; its error when it is not 2xx; EPROTO when
/// berthd's JSON is malformed.
Result<json::Value> expect_ok(const Response& r);

/// The result of a finished operation's document ({"status": "success",
/// "result": ...}); else its error, coded by the HTTP status in its "code".
Result<json::Value> operation_outcome(const json::Value& done);

/// Calls to one berthd.
class Api {
public:
  explicit Api(Endpoint e) : endpoint_(std::move(e)) {}

  const Endpoint& endpoint() const { return endpoint_; }

  /// One request, its whole answer whatever its status.
  Result<Response> call(std::string_view method, std::string_view target, std::string_view body = {}) const;
  /// One request, its answer's JSON (expect_ok()).
  Result<json::Value> json(std::string_view method, std::string_view target, std::string_view body = {}) const;
  /// Starts an operation and waits for its result (operation_outcome()).
  Result<json::Value> run_operation(std::string_view method, std::string_view target, std::string_view body) const;

private:
  Endpoint endpoint_;
};

}  // namespace berth::client
