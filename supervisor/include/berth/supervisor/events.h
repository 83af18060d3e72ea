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
  /// The event's type ("started", "operation", "log", ...) and its line.
  using Handler = std::function<void(const std::string& type, const std::string& line)>;
  /// Publishes {"time","type","name",...extra} as one JSON line.
  void publish(const std::string& type, const std::string& name, json::Value extra = json::Value::object());
  int subscribe(Handler h);
  void unsubscribe(int id);

private:
  std::mutex mu_;
  std::map<int, Handler> handlers_;
  int next_ = 1;
};

}  // namespace berth::supervisor
