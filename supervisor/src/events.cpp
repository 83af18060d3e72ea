// events.cpp — the event bus.
#include "berth/supervisor/events.h"

#include "berth/base/log.h"

namespace berth::supervisor {

void EventBus::publish(const std::string& type, const std::string& name, json::Value extra) {
  json::Value e = json::Value::object();
  e.set("time", log::rfc3339_now());
  e.set("type", type);
  if (!name.empty()) e.set("name", name);
  if (extra.is_object())
    for (auto& [k, v] : extra.as_object()) e.set(k, v);
  std::string line = json::dump(e) + "\n";
  std::lock_guard lock(mu_);
  for (auto& [_, h] : handlers_) h(type, line);
}

int EventBus::subscribe(Handler h) {
  std::lock_guard lock(mu_);
  handlers_[next_] = std::move(h);
  return next_++;
}

void EventBus::unsubscribe(int id) {
  std::lock_guard lock(mu_);
  handlers_.erase(id);
}

}  // namespace berth::supervisor
