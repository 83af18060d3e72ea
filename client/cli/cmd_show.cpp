// cmd_show.cpp — what berthd shows: list, status, a console's log, and the
// event and metrics streams.
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "berth/client/format.h"
#include "commands.h"

namespace berth::cli {

using client::field;
using client::joined;
using client::shown;

Result<int> cmd_list(Context& c, const Argv&) {
  json::Value v = BERTH_TRY(c.api.json("GET", "/v1/containers"));
  if (c.json_out) return print_json(v), 0;
  client::Table t({{"NAME", 20}, {"STATE", 10}, {"PID", 8}, {"UPTIME", 8}, {"RAM", 8}, {"CPUS", 5}, {"ADDRESSES"}});
  for (const auto& ct : v.as_array()) {
    const json::Value* cfg = ct.find("config");
    t.row({field(ct, "name"), field(ct, "state"), field(ct, "init_pid"), ct.find("uptime") ? shown(ct, "uptime") : "-",
           cfg ? shown(*cfg, "ram") : "-", cfg ? field(*cfg, "cpus") : "-", joined(ct, "addresses")});
  }
  print(t.str());
  return 0;
}

Result<int> cmd_status(Context& c, const Argv& a) {
  std::string name = BERTH_TRY(need_name(a));
  json::Value v = BERTH_TRY(c.api.json("GET", "/v1/containers/" + name));
  if (c.json_out) return print_json(v), 0;
  // Each key once (the record's name is the container's), figures for
  // people: --format json has the exact numbers.
  auto label = [](const std::string& k) {
    return k == "memory_bytes" ? std::string("memory") : k == "cpu_ns" ? std::string("cpu_time") : k;
  };
  client::Table t({{"", 12}, {""}});
  std::vector<std::string> seen;
  for (const auto& [k, val] : v.as_object()) {
    if (val.is_object()) continue;
    seen.push_back(k);
    t.row({label(k), val.is_array() ? joined(v, k.c_str()) : shown(v, k)});
  }
  // A record field named like a figure in use above is its limit.
  for (const char* group : {"resources", "config"})
    if (const json::Value* g = v.find(group))
      for (const auto& [k, val] : g->as_object()) {
        if (k == "name") continue;
        bool again = std::find(seen.begin(), seen.end(), k) != seen.end();
        seen.push_back(k);
        t.row({label(k) + (again ? "_limit" : ""), shown(*g, k)});
      }
  print(t.str(false));
  return 0;
}

Result<int> cmd_log(Context& c, const Argv& a) {
  std::string name = BERTH_TRY(need_name(a));
  client::Response r = BERTH_TRY(c.api.call("GET", "/v1/containers/" + name + "/log"));
  if (r.status >= 300) return client::answer_error(r);
  print(r.body);
  return 0;
}

Result<int> cmd_stream(Context& c, const Argv& a) {
  const bool events = a[0] == "events";
  std::vector<flags::Flag> known;
  if (events) known.push_back(flags::Flag::text({"type"}));
  flags::Args f = BERTH_TRY(parse_flags(a, 1, known, a[0]));
  if (!f.positional().empty())
    return usage_error(a[0] +
                       (events ? ": expected no arguments or --type TYPE[,TYPE...]" : ": expected no arguments"));
  std::string path = events ? "/v1/events" : "/metrics";
  if (f.has("type")) path += "?type=" + f.get("type");
  client::Connection conn = BERTH_TRY(client::Connection::open(c.api.endpoint()));
  // Written as it comes: `berth events` follows berthd until it is stopped.
  std::fflush(stdout);
  client::Response r = BERTH_TRY(conn.stream(path, [](std::string_view piece) {
    while (!piece.empty()) {
      ssize_t n = ::write(1, piece.data(), piece.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      piece.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }));
  if (r.status < 200 || r.status >= 300) return client::answer_error(r);
  return 0;
}

}  // namespace berth::cli
