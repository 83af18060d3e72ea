// cmd_lifecycle.cpp — a container's life: create, start, restart,
// suspend, resume, stop (one, or --all), destroy, autostart, set, and its
// disk's snapshots and commits. Each is an operation berthd runs; the verb
// waits for its end.
#include <cstdio>

#include "berth/base/fs.h"
#include "berth/client/format.h"
#include "commands.h"

namespace berth::cli {

using client::field;

Result<long> seconds_arg(const std::string& v) {
  char* end = nullptr;
  long t = std::strtol(v.c_str(), &end, 10);
  if (v.empty() || *end || t < 0) return usage_error("--timeout: expected seconds, got \"" + v + "\"");
  return t;
}

namespace {

// Options that may be given more than once: their values are joined with
// commas ("--net lan --net dmz:198.18.2.9" -> "lan,dmz:198.18.2.9").
bool repeatable(const std::string& key) {
  return key == "net" || key == "nameserver" || key == "searchdomain" || key == "ports";
}

// --key value pairs into an API object ("--stop-timeout" -> "stop_timeout");
// berthd checks the fields and their values.
Result<json::Value> options(const Argv& a, size_t from) {
  json::Value o = json::Value::object();
  for (size_t i = from; i < a.size(); ++i) {
    const std::string& flag = a[i];
    if (!flag.starts_with("--") || flag.size() < 3)
      return usage_error("unexpected argument \"" + flag + "\" (expected --field value)");
    if (i + 1 >= a.size()) return usage_error(flag + ": needs a value");
    std::string key = flag == "--port" ? "ports" : flag.substr(2);  // --port is repeatable, PORTS its record key
    for (char& ch : key)
      if (ch == '-') ch = '_';
    const json::Value* had = o.find(key);
    const std::string& value = a[++i];
    if (key == "ssh_key") {
      // The file's public keys go to berthd (which cannot read the
      // caller's files); repeated, their lines add up.
      auto text = fs::read_file(value);
      if (!text) return usage_error("--ssh-key: " + text.error().what());
      o.set(key, (had ? had->as_string() + "\n" : "") + *text);
    } else if (had && repeatable(key)) {
      o.set(key, had->as_string() + "," + value);
    } else {
      o.set(key, value);
    }
  }
  return o;
}

// The --force and (with `timeout`) --timeout S flags of stop, stop --all
// and destroy, from a[from] on, as their request body.
Result<json::Value> stop_flags(const Argv& a, size_t from, const std::string& verb, bool timeout) {
  std::vector<flags::Flag> known = {flags::Flag::boolean({"force"})};
  if (timeout) known.push_back(flags::Flag::integer({"timeout"}, 0, 1e9));
  flags::Args f = BERTH_TRY(parse_flags(a, from, known, verb));
  if (!f.positional().empty()) return usage_error(verb + ": unexpected argument \"" + f.positional()[0] + "\"");
  json::Value body = json::Value::object();
  if (f.has("force")) body.set("force", true);
  if (f.has("timeout")) body.set("timeout", f.integer("timeout", 0));
  return body;
}

}  // namespace

Result<int> cmd_create(Context& c, const Argv& a) {
  std::string name = BERTH_TRY(need_name(a));
  json::Value body = BERTH_TRY(options(a, 2));
  body.set("name", name);
  BERTH_TRY(c.api.run_operation("POST", "/v1/containers", json::dump(body)));
  std::printf("created %s\n", name.c_str());
  return 0;
}

Result<int> cmd_state_change(Context& c, const Argv& a) {
  std::string name = BERTH_TRY(need_name(a));
  BERTH_TRY(no_more(a, 2));
  json::Value v = BERTH_TRY(c.api.run_operation("POST", "/v1/containers/" + name + "/" + a[0], ""));
  std::printf("%s %s: %s\n", a[0].c_str(), name.c_str(), field(v, "state").c_str());
  return 0;
}

Result<int> cmd_stop(Context& c, const Argv& a) {
  const std::string& verb = a[0];
  if (verb == "stop" && a.size() >= 2 && a[1] == "--all") {
    // Node shutdown: every running container, in parallel within each boot
    // order, highest first; berthd goes on past a failure and names it.
    json::Value body = BERTH_TRY(stop_flags(a, 2, "stop --all", true));
    json::Value r = BERTH_TRY(c.api.run_operation("POST", "/v1/stop-all", json::dump(body)));
    if (const json::Value* stopped = r.find("stopped"); stopped && stopped->is_array())
      for (const auto& n : stopped->as_array()) std::printf("stop %s: done\n", n.as_string().c_str());
    return 0;
  }
  std::string name = BERTH_TRY(need_name(a));
  json::Value body = BERTH_TRY(stop_flags(a, 2, verb, verb == "stop"));
  std::string b = body.as_object().empty() ? "" : json::dump(body);
  if (verb == "stop") BERTH_TRY(c.api.run_operation("POST", "/v1/containers/" + name + "/stop", b));
  else BERTH_TRY(c.api.run_operation("DELETE", "/v1/containers/" + name, b));
  std::printf("%s %s: done\n", verb.c_str(), name.c_str());
  return 0;
}

Result<int> cmd_autostart(Context& c, const Argv& a) {
  BERTH_TRY(no_more(a, 1));
  BERTH_TRY(c.api.run_operation("POST", "/v1/autostart", ""));
  std::printf("autostart: done\n");
  return 0;
}

Result<int> cmd_set(Context& c, const Argv& a) {
  std::string name = BERTH_TRY(need_name(a));
  json::Value body = BERTH_TRY(options(a, 2));
  if (body.as_object().empty()) return usage_error("set: nothing to change");
  json::Value r = BERTH_TRY(c.api.run_operation("PATCH", "/v1/containers/" + name, json::dump(body)));
  if (c.json_out) print_json(r);
  auto list = [&](const char* key) {
    const json::Value* l = r.find(key);
    return l && l->is_array() ? l->as_array() : json::Array{};
  };
  for (const auto& k : list("live")) std::printf("%s: applied\n", k.as_string().c_str());
  for (const auto& k : list("restart"))
    std::printf("%s: saved, takes effect at the next start\n", k.as_string().c_str());
  return 0;
}

Result<int> cmd_snapshot(Context& c, const Argv& a) {
  const std::string& verb = a[0];
  std::string name = BERTH_TRY(need_name(a));
  if (a.size() != 3) return usage_error(verb + ": expected NAME and " + (verb == "commit" ? "TAG" : "SNAPSHOT"));
  json::Value body = json::Value::object();
  body.set(verb == "commit" ? "tag" : "name", a[2]);
  json::Value r = BERTH_TRY(c.api.run_operation("POST", "/v1/containers/" + name + "/" + verb, json::dump(body)));
  if (verb == "commit") std::printf("committed %s as %s %s\n", name.c_str(), a[2].c_str(), field(r, "digest").c_str());
  else std::printf("%s %s: %s\n", verb.c_str(), name.c_str(), a[2].c_str());
  return 0;
}

Result<int> cmd_snapshots(Context& c, const Argv& a) {
  std::string name = BERTH_TRY(need_name(a));
  json::Value v = BERTH_TRY(c.api.json("GET", "/v1/containers/" + name + "/snapshots"));
  if (c.json_out) return print_json(v), 0;
  client::Table t({{"SNAPSHOT", 24}, {"CREATED", 12}, {"SIZE"}});
  for (const auto& s : v.as_array()) t.row({field(s, "name"), field(s, "created"), field(s, "size")});
  print(t.str());
  return 0;
}

}  // namespace berth::cli
