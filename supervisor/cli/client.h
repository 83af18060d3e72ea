// client.h — what the berth CLI's command files share: requests to
// berthd over its unix socket, errors as exit codes, operations.
#pragma once

#include <string>
#include <vector>

#include "berth/base/fd.h"
#include "berth/base/json.h"

namespace berth::cli {

struct Response {
  int status = 0;
  std::string body;
};

/// The API socket (--socket, $BERTH_SOCKET, or berthd's default).
extern std::string g_socket;

/// Prints "berth: MSG" and exits with `code`.
[[noreturn]] void die(int code, const std::string& msg);

/// One request, its whole answer; exits 5 when berthd is unreachable.
Response call(const std::string& method, const std::string& path, const std::string& body = "");

/// The answer's JSON; exits with the server's error when it is not 2xx.
json::Value expect_ok(const Response& r);

/// Sends a request that starts an operation and waits for its result.
json::Value run_operation(const std::string& method, const std::string& path, const std::string& body);

/// The result of a finished operation's document; exits with its error
/// (and the exit code its HTTP status means) when it failed.
json::Value operation_outcome(const json::Value& done);

/// A field as text ("-" when absent).
std::string field(const json::Value& v, const char* key);

/// Sends an upgrading request (Upgrade: `protocol`; `body` JSON unless
/// empty) and returns the connection after berthd's 101; exits with
/// berthd's error otherwise (terminal.cpp).
UniqueFd upgrade(const std::string& method, const std::string& path, const std::string& protocol,
                 const std::string& body);

/// `berth operation ls|show|wait|cancel ...` (images.cpp).
int operation_command(const std::vector<std::string>& a, bool json_out);

/// `berth trust ls|add|rm ...` and `berth project ls|set ...` (access.cpp).
int trust_command(const std::vector<std::string>& a, bool json_out);
int project_command(const std::vector<std::string>& a, bool json_out);

/// `berth image ...` (images.cpp); `a` starts with "image".
int image_command(const std::vector<std::string>& a, bool json_out);

/// `berth exec -t NAME -- CMD` (terminal.cpp): `args` on a pty in the
/// container, this terminal raw and its size followed; the command's exit
/// status.
int exec_terminal(const std::string& name, const std::vector<std::string>& args);
/// `berth enter NAME`: a login shell as root on a pty (terminal.cpp).
int enter(const std::string& name);

}  // namespace berth::cli
