// events.h — the event bus: lifecycle, operation and log events to
// subscribers (the API's event stream). Thread-safe; callbacks must not
// block or log.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "berth/base/json.h"

namespace berth::supervisor {

class EventBus {
public:
  /// The event's type ("started", "operation", "log", ...), the project
  /// of the container it names ("" when none) and its line.
  using Handler = std::function<void(const std::string& type, const std::string& project, const std::string& line)>;
  /// The project of a container (read from its record; "" when there is
  /// none): called outside every lock of the bus's callers' making, once
  /// per name until a "created" or "destroyed" event for it.
  using ProjectOf = std::function<std::string(const std::string& name)>;
  void set_project_of(ProjectOf f);
  /// Publishes {"time","type","name","project"?,...extra} as one JSON line.
  void publish(const std::string& type, const std::string& name, json::Value extra = json::Value::object());
  int subscribe(Handler h);
  void unsubscribe(int id);

private:
  std::string project_of(const std::string& type, const std::string& name);

  std::mutex mu_;
  std::map<int, Handler> handlers_;
  int next_ = 1;
  std::mutex projects_mu_;
  ProjectOf project_of_;
  std::map<std::string, std::string> projects_;  // name -> project, cached
};

}  // namespace berth::supervisor
