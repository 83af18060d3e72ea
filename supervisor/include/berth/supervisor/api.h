// api.h — the REST API (/v1): request decoding (pure) and the HTTP server
// over a unix socket (Boost.Beast, in one translation unit).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"
#include "berth/supervisor/service.h"

namespace berth::supervisor {

enum class Verb {
  ping, list, create, show, set, destroy, start, stop, restart, suspend, resume, exec,
  operations, operation, operation_wait, events, metrics,
  operation_cancel,  // DELETE /v1/operations/ID: asks a cancellable operation to stop
  log,      // GET /v1/containers/NAME/log: the console log
  console,  // GET /v1/containers/NAME/console: 101, then the console both ways
  snapshot, rollback, commit,  // POST /v1/containers/NAME/ACTION {"name"|"tag": ...}
  snapshots,                   // GET /v1/containers/NAME/snapshots
  images,                      // GET /v1/images
  build_template,              // POST /v1/images {"template": "busybox", "tag": ...}
  image_pull,                  // POST /v1/images/pull {"ref", ...}: an operation with progress
  image_push,                  // POST /v1/images/push {"image", "ref", ...}: an operation with progress
  image_prune,                 // POST /v1/images/prune: an operation
  image_inspect,               // GET /v1/images/REF (REF may hold '/')
  image_remove,                // DELETE /v1/images/REF
  networks,                    // GET /v1/networks
  network_create,              // POST /v1/networks {"name", "mode", "subnet4", ...}
  network_remove,              // DELETE /v1/networks/NAME
  export_disk,    // POST /v1/containers/NAME/export [{"cluster": ID}]: 200 and the disk's changes
                  // (a gzip'd tar) once they are packed; the container is stopped first
  exec_terminal,  // POST /v1/containers/NAME/exec {"args","terminal":true,"env","rows","cols"}:
                  // 101, then frames both ways (frames.h); `body` holds the checked request
  stop_all,       // POST /v1/stop-all {"force"?,"timeout"?}: every running container, in parallel
                  // within each boot order, highest first; an operation
  autostart,      // POST /v1/autostart: the stopped autostart containers, in boot order; an operation
  trust_list,     // GET /v1/trust: the trusted client certificates
  trust_add,      // POST /v1/trust {"certificate": PEM | "fingerprint", "role", "projects"?, "name"?}
  trust_remove,   // DELETE /v1/trust/FINGERPRINT (or a unique prefix of 12+ hex digits)
  projects,       // GET /v1/projects: each project's limits and use
  project_set,    // PATCH /v1/projects/NAME {"containers"?, "ram"?, "disk"?, "cpus"?}: changes its limits
};

struct Request {
  Verb verb = Verb::ping;
  std::string name;       // container name, or operation id
  json::Value body;       // decoded JSON body (object) or null
  bool force = false;     // stop, destroy
  std::optional<int> timeout;            // stop, exec, operation wait (s)
  std::vector<std::string> args;         // exec; snapshot, rollback and commit: the snapshot or tag;
                                         // export_disk: the cluster id the container must have;
                                         // events: the types asked for (none: all);
                                         // build_template: kind and tag
};

/// Parses a request body into `r.body` (empty stays null): 400 unless it is
/// a JSON object.
Status decode_body(Request& r, std::string_view body);

/// Decodes the routes under /v1/images (`parts` are the path segments,
/// "v1" and "images" first) into `r`; api_images.cpp.
Status decode_image_request(Request& r, std::string_view method, const std::vector<std::string>& parts,
                            std::string_view body);

/// A create or set body as settings: "ssh_key" and "root_password" as
/// non-empty strings, every other key a record field (record.h's
/// json_field). Errors name the field (no status: the service's checks
/// answer 400 the same way).
Result<Settings> decode_settings(const json::Value& body);

/// A set's body: an object of changes (not empty), as decode_settings.
Result<SetRequest> decode_set_request(const json::Value& body);

/// A create's body as settings (decode_settings).
inline Result<CreateRequest> decode_create_request(const json::Value& body) { return decode_settings(body); }

/// A container as the API shows it: {"name","state", "init_pid",
/// "monitor_pid","started","uptime" (running), "addresses" (with
/// networks), "config" (record_json), "resources" and "last_exit" (show)}.
json::Value container_json(const ContainerStatus& c);
/// Containers as the API lists them: an array of container_json.
json::Value containers_json(const std::vector<ContainerStatus>& all);

/// A set's result as the API answers it: {"live": [...], "restart": [...]}.
json::Value set_result_json(const SetResult& r);

/// The image store as the API lists it: [{"tag"?,"digest","size","platform"?}].
json::Value images_json(const std::vector<ImageSummary>& all);

/// True for verbs that run as operations (202 + an operation id).
bool is_operation(Verb v);
/// Operation action name ("start").
const char* verb_name(Verb v);

/// Decodes method, target (path and query) and body. Errors carry the HTTP
/// status in code(): 400 bad input, 404 unknown path, 405 wrong method,
/// 413 body too large.
Result<Request> decode_request(std::string_view method, std::string_view target, std::string_view body);

/// HTTP status for a service error: ENOENT 404, EEXIST/EALREADY/EBUSY 409,
/// no errno or EINVAL 400, ETIMEDOUT 504, kForbidden 403, else 500.
int status_for(const Error& e);

/// An error's text for users: the message alone when it is berth's own
/// (no such container, exists, busy), with strerror otherwise.
std::string describe(const Error& e);

/// The JSON error body: {"error": "..."}.
std::string error_body(const Error& e);

constexpr size_t kMaxBody = 1u << 20;

/// The code of an error that refuses a request for who asked (access.h):
/// HTTP 403 with berth's own message.
constexpr int kForbidden = 403;

}  // namespace berth::supervisor
