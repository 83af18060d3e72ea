// supervisor_api_fuzz.cpp — fuzz target for berthd's API decoding: the
// request line and body any client of the socket or the TLS port sends.
// Input: "METHOD TARGET\n" then the body. A refused request carries an
// HTTP status of 400..499 and a message; an accepted create or set body
// applied to a record either holds or names what it refuses, and the
// record it gives formats and parses back. Every decoded request passes
// the access rules for every role (allowed, or refused with 403 and a
// message), and trust and project bodies decode or name what they refuse.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "berth/supervisor/access.h"
#include "berth/supervisor/api.h"
#include "berth/supervisor/record.h"

using namespace berth;
using namespace berth::supervisor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t nl = in.find('\n');
  std::string_view line = in.substr(0, nl), body = nl == std::string_view::npos ? "" : in.substr(nl + 1);
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return 0;
  auto r = decode_request(line.substr(0, sp), line.substr(sp + 1), body);
  if (!r) {
    int code = r.error().code();
    if (code < 400 || code > 499 || r.error().message().empty()) std::abort();
    return 0;
  }
  for (Role role : {Role::viewer, Role::operator_, Role::admin, Role::node}) {
    Identity who;
    who.name = "tls:fuzz";
    who.role = role;
    who.projects = {"shop"};
    auto st = authorize(who, *r);
    if (!st && (st.error().code() != kForbidden || st.error().message().empty())) std::abort();
    if (r->verb == Verb::create) {
      auto p = project_for_create(who, r->body);
      if (!p && p.error().message().empty()) std::abort();
    }
  }
  if (r->verb == Verb::trust_add) {
    auto e = decode_trust_entry(r->body);
    if (!e && e.error().message().empty()) std::abort();
  }
  if (r->verb == Verb::project_set) {
    ProjectLimits l;
    auto st = apply_project_limits(l, r->body);
    if (!st && st.error().message().empty()) std::abort();
  }
  if ((r->verb == Verb::create || r->verb == Verb::set) && r->body.is_object()) {
    Record rec;
    rec.name = "fuzz";
    rec.rootfs_source = "/srv/fuzz";
    auto st = apply_json(rec, r->body, "");
    if (!st) {
      if (st.error().message().empty()) std::abort();
      return 0;
    }
    if (rec.name.empty()) return 0;
    auto back = parse_record(format_record(rec));
    if (back && format_record(*back) != format_record(rec)) std::abort();
  }
  return 0;
}
