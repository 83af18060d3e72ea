// cmd_access.cpp — `berth trust ...` and `berth project ...`: who may use the
// API and what each project may hold (admin only, but for project ls).
#include <cstdio>

#include "berth/base/fs.h"
#include "berth/client/format.h"
#include "commands.h"

namespace berth::cli {

using client::field;

namespace {

std::string projects_text(const json::Value& e) {
  const json::Value* p = e.find("projects");
  if (!p || !p->is_array() || p->as_array().empty()) return "(all)";
  std::string out;
  for (const auto& s : p->as_array()) out += (out.empty() ? "" : ",") + s.as_string();
  return out;
}

}  // namespace

Result<int> cmd_trust(Context& c, const Argv& a) {
  std::string sub = a.size() >= 2 ? a[1] : "";
  if (sub == "ls" && a.size() == 2) {
    json::Value v = BERTH_TRY(c.api.json("GET", "/v1/trust"));
    if (c.json_out) return std::printf("%s\n", json::dump(v, true).c_str()), 0;
    client::Table t({{"NAME", 20}, {"ROLE", 9}, {"PROJECTS", 24}, {"FINGERPRINT"}});
    for (const auto& e : v.as_array())
      t.row({field(e, "name"), field(e, "role"), projects_text(e), field(e, "fingerprint")});
    print(t.str());
    return 0;
  }
  if (sub == "rm" && a.size() == 3) {
    json::Value e = BERTH_TRY(c.api.json("DELETE", "/v1/trust/" + a[2]));
    std::printf("removed %s (%s)\n", field(e, "name").c_str(), field(e, "fingerprint").c_str());
    return 0;
  }
  if (sub != "add" || a.size() < 3 || a[2].starts_with("-"))
    return usage_error("trust: expected ls, add CERT --role ROLE [--project P]... [--name N], or rm FINGERPRINT");
  auto pem = fs::read_file(a[2], 1u << 20);
  if (!pem) return usage_error("trust add: " + pem.error().what());
  json::Value body = json::Value::object();
  body.set("certificate", *pem);
  flags::Args f = BERTH_TRY(parse_flags(
      a, 3, {flags::Flag::text({"role"}), flags::Flag::text({"project"}), flags::Flag::text({"name"})}, "trust add"));
  if (!f.positional().empty()) return usage_error("trust add: unexpected argument \"" + f.positional()[0] + "\"");
  if (!f.has("role")) return usage_error("trust add: --role viewer|operator|admin|node is required");
  body.set("role", f.get("role"));
  if (f.has("name")) body.set("name", f.get("name"));
  json::Value projects = json::Value::array();
  for (const auto& p : f.all("project")) projects.push_back(p);
  body.set("projects", std::move(projects));
  json::Value e = BERTH_TRY(c.api.json("POST", "/v1/trust", json::dump(body)));
  std::printf("trusted %s as %s in %s: %s\n", field(e, "name").c_str(), field(e, "role").c_str(),
              projects_text(e).c_str(), field(e, "fingerprint").c_str());
  return 0;
}

Result<int> cmd_project(Context& c, const Argv& a) {
  std::string sub = a.size() >= 2 ? a[1] : "";
  if (sub == "ls" && a.size() == 2) {
    json::Value v = BERTH_TRY(c.api.json("GET", "/v1/projects"));
    if (c.json_out) return std::printf("%s\n", json::dump(v, true).c_str()), 0;
    client::Table t({{"NAME", 20}, {"CONTAINERS", 10}, {"MAX", 14}, {"RAM", 10}, {"DISK", 12}, {"CPUS"}});
    for (const auto& p : v.as_array()) {
      const json::Value* l = p.find("limits");
      auto limit = [&](const char* k) {
        const json::Value* v2 = l ? l->find(k) : nullptr;
        return v2 && v2->is_uint() ? std::to_string(v2->as_uint()) : std::string("-");
      };
      t.row(
          {field(p, "name"), field(p, "containers"), limit("containers"), limit("ram"), limit("disk"), limit("cpus")});
    }
    print(t.str());
    return 0;
  }
  if (sub != "set" || a.size() < 4 || a[2].starts_with("-"))
    return usage_error(
        "project: expected ls, or set NAME [--containers N] [--ram SIZE] [--disk SIZE] [--cpus N] (none: no limit)");
  // Each limit a whole number (ram and disk: a size berthd reads), or none.
  static const char* const kLimits[] = {"containers", "ram", "disk", "cpus"};
  std::vector<flags::Flag> known;
  for (const char* k : kLimits) known.push_back(flags::Flag::text({k}));
  flags::Args f = BERTH_TRY(parse_flags(a, 3, known, "project set"));
  if (!f.positional().empty()) return usage_error("project set: unexpected argument \"" + f.positional()[0] + "\"");
  json::Value body = json::Value::object();
  for (std::string key : kLimits) {
    if (!f.has(key)) continue;
    const std::string v = f.get(key);
    if (v == "none") {
      body.set(key, json::Value());
    } else if (key == "ram" || key == "disk") {
      body.set(key, v);
    } else {
      char* end = nullptr;
      unsigned long long n = std::strtoull(v.c_str(), &end, 10);
      if (v.empty() || *end) return usage_error("--" + key + ": expected a whole number or none, got \"" + v + "\"");
      body.set(key, static_cast<uint64_t>(n));
    }
  }
  BERTH_TRY(c.api.json("PATCH", "/v1/projects/" + a[2], json::dump(body)));
  std::printf("project %s: limits set\n", a[2].c_str());
  return 0;
}

}  // namespace berth::cli
