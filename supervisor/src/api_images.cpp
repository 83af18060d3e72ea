// api_images.cpp — decoding the image routes of the API (no I/O):
//   GET    /v1/images                  the store's tags
//   POST   /v1/images                  build a template {"template","tag","packages"?,"suite"?,"mirror"?}
//   POST   /v1/images/pull             {"ref","tag"?,"platform"?,"credentials"?,"ca"?,"plain_http"?}
//   POST   /v1/images/push             {"image","ref","credentials"?,"ca"?,"plain_http"?}
//   POST   /v1/images/prune            garbage collection
//   GET    /v1/images/REF              inspect (REF may hold '/': the rest of the path)
//   DELETE /v1/images/REF              untag, refused while a container uses it
#include <algorithm>
#include <initializer_list>

#include "berth/supervisor/api.h"

namespace berth::supervisor {

namespace {

Error bad(int status, std::string msg) { return Error(status, std::move(msg)); }

enum class Kind { string, boolean, strings };

struct Field {
  const char* name;
  Kind kind;
  bool required;
};

// Checks a body against `fields`: no unknown key, every required one
// present, each of its kind. Strings must not be empty.
Status check_fields(const json::Value& body, std::initializer_list<Field> fields) {
  if (!body.is_null())
    for (const auto& entry : body.as_object()) {
      const std::string& k = entry.first;
      if (std::none_of(fields.begin(), fields.end(), [&](const Field& f) { return k == f.name; }))
        return bad(400, k + ": unknown field");
    }
  for (const Field& f : fields) {
    const json::Value* v = body.is_null() ? nullptr : body.find(f.name);
    if (!v) {
      if (f.required) return bad(400, std::string(f.name) + ": missing");
      continue;
    }
    bool ok_kind = false;
    switch (f.kind) {
      case Kind::string: ok_kind = v->is_string() && !v->as_string().empty(); break;
      case Kind::boolean: ok_kind = v->is_bool(); break;
      case Kind::strings:
        ok_kind = v->is_array() && std::all_of(v->as_array().begin(), v->as_array().end(), [](const json::Value& x) {
                    return x.is_string() && !x.as_string().empty();
                  });
        break;
    }
    if (!ok_kind) {
      const char* want = f.kind == Kind::string ? "a non-empty string"
                         : f.kind == Kind::boolean ? "true or false"
                                                   : "an array of non-empty strings";
      return bad(400, std::string(f.name) + ": expected " + want);
    }
  }
  return ok();
}

}  // namespace

Status decode_image_request(Request& r, std::string_view method, const std::vector<std::string>& p,
                            std::string_view body) {
  BERTH_TRY(decode_body(r, body));
  if (p.size() == 2) {
    if (method == "GET") {
      r.verb = Verb::images;
      return ok();
    }
    if (method != "POST") return bad(405, std::string(method) + " /v1/images: expected GET or POST");
    r.verb = Verb::build_template;
    BERTH_TRY(check_fields(r.body, {{"template", Kind::string, true}, {"tag", Kind::string, true},
                                    {"packages", Kind::strings, false}, {"suite", Kind::string, false},
                                    {"mirror", Kind::string, false}}));
    r.args = {r.body.find("template")->as_string(), r.body.find("tag")->as_string()};
    if (const json::Value* pk = r.body.find("packages"))
      for (const auto& x : pk->as_array()) r.args.push_back(x.as_string());
    return ok();
  }
  if (method == "POST" && p.size() == 3 && (p[2] == "pull" || p[2] == "push" || p[2] == "prune")) {
    if (p[2] == "prune") {
      r.verb = Verb::image_prune;
      return check_fields(r.body, {});
    }
    bool push = p[2] == "push";
    r.verb = push ? Verb::image_push : Verb::image_pull;
    BERTH_TRY(check_fields(r.body, {{"ref", Kind::string, true}, {"image", Kind::string, push},
                                    {"tag", Kind::string, false}, {"platform", Kind::string, false},
                                    {"credentials", Kind::string, false}, {"ca", Kind::string, false},
                                    {"plain_http", Kind::boolean, false}}));
    if (push && (r.body.find("tag") || r.body.find("platform")))
      return bad(400, std::string(r.body.find("tag") ? "tag" : "platform") + ": unknown field for a push");
    if (!push && r.body.find("image")) return bad(400, "image: unknown field for a pull");
    r.name = r.body.find("ref")->as_string();
    return ok();
  }
  // The rest of the path is an image reference, slashes and all.
  std::string ref;
  for (size_t i = 2; i < p.size(); ++i) ref += (i > 2 ? "/" : "") + p[i];
  if (method == "GET") r.verb = Verb::image_inspect;
  else if (method == "DELETE") r.verb = Verb::image_remove;
  else return bad(405, std::string(method) + " /v1/images/" + ref + ": expected GET or DELETE");
  if (!r.body.is_null()) return bad(400, "body: not expected");
  r.name = std::move(ref);
  return ok();
}

json::Value images_json(const std::vector<ImageSummary>& all) {
  json::Value a = json::Value::array();
  for (const ImageSummary& i : all) {
    json::Value o = json::Value::object();
    if (!i.tag.empty()) o.set("tag", i.tag);
    o.set("digest", i.digest);
    o.set("size", i.size);
    if (!i.platform.empty()) o.set("platform", i.platform);
    a.push_back(std::move(o));
  }
  return a;
}

}  // namespace berth::supervisor
