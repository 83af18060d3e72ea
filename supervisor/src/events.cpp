// events.cpp — the event bus.
#include "berth/supervisor/events.h"

#include "berth/base/log.h"

namespace berth::supervisor {

void EventBus::set_project_of(ProjectOf f) {
  std::lock_guard lock(projects_mu_);
  project_of_ = std::move(f);
  projects_.clear();
}

std::string EventBus::project_of(const std::string& type, const std::string& name) {
  std::lock_guard lock(projects_mu_);
  if (!project_of_ || name.empty()) return "";
  // A name may come back, in another project, after a destroy (whose
  // event is told from the cache: the record is gone by then).
  if (type == "created") projects_.erase(name);
  auto it = projects_.find(name);
  std::string p = it != projects_.end() ? it->second : project_of_(name);
  if (type == "destroyed") projects_.erase(name);
  else if (!p.empty() && projects_.size() < 100000) projects_[name] = p;
  return p;
}

void EventBus::publish(const std::string& type, const std::string& name, json::Value extra) {
  json::Value e = json::Value::object();
  e.set("time", log::rfc3339_now());
  e.set("type", type);
  if (!name.empty()) e.set("name", name);
  std::string project = project_of(type, name);
  if (!project.empty()) e.set("project", project);
  if (extra.is_object())
    for (auto& [k, v] : extra.as_object()) e.set(k, v);
  std::string line = json::dump(e) + "\n";
  std::lock_guard lock(mu_);
  for (auto& [_, h] : handlers_) h(type, project, line);
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
