// cmd_events.cpp — `events`: stats once (--stats) or every interval, plus
// OOM notices, as JSON lines.
#include <unistd.h>

#include <chrono>
#include <thread>

#include "args.h"
#include "commands.h"

namespace berth::cli {
namespace {

Result<int> parse_interval_ms(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string unit = end ? end : "";
  double ms = unit == "ms" ? v : unit == "s" || unit.empty() ? v * 1000 : unit == "m" ? v * 60000 : -1;
  if (ms <= 0) return Error::msg("--interval: expected a duration like 5s or 500ms, got " + s);
  return static_cast<int>(ms);
}

}  // namespace

Result<int> cmd_events(const runtime::Globals& g, const Argv& argv) {
  Args a = BERTH_TRY(parse_flags(argv, {Flag::text({"interval"}), Flag::boolean({"stats"})}));
  std::string id = BERTH_TRY(one_id(a.positional(), "events"));
  if (a.has("stats")) {
    auto ev = BERTH_TRY(runtime::stats_event(g, id));
    print(json::dump(ev) + "\n");
    return 0;
  }
  int interval = BERTH_TRY(parse_interval_ms(a.get("interval", "5s")));
  auto initial = runtime::oom_count(g, id);
  uint64_t ooms = initial ? *initial : 0;
  auto next_stats = std::chrono::steady_clock::now();
  for (;;) {
    auto s = runtime::load_state(g, id);
    if (!s || s->status == runtime::ContainerStatus::stopped) return 0;
    auto now_ooms = runtime::oom_count(g, id);
    if (now_ooms && *now_ooms > ooms) {
      ooms = *now_ooms;
      json::Value ev = json::Value::object();
      ev.set("type", "oom");
      ev.set("id", id);
      print(json::dump(ev) + "\n");
    }
    if (std::chrono::steady_clock::now() >= next_stats) {
      auto ev = runtime::stats_event(g, id);
      if (ev) print(json::dump(*ev) + "\n");
      next_stats += std::chrono::milliseconds(interval);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(interval, 200)));
  }
}

}  // namespace berth::cli
