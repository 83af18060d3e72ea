// registry.h — what berthd knows about each container, in memory; no I/O.
// The service owns one and guards it with its lock.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/supervisor/record.h"

namespace berth::supervisor {

enum class State { stopped, starting, running, stopping, suspended };
const char* state_name(State s);

struct Entry {
  Record record;
  State state = State::stopped;
  pid_t init_pid = 0;
  pid_t monitor_pid = 0;
  time_t started = 0;
  bool busy = false;            // an operation holds it
  bool stop_requested = false;  // the next exit is not a crash
  int restarts = 0;             // crash restarts since the last start asked for
  std::string pinned;           // CPUs its --cpus pinned it to at start ("" none)
};

class Registry {
public:
  /// Adds a record; a name already present is EEXIST.
  Status add(Record r);
  /// Removes an entry (missing is fine).
  void remove(const std::string& name);
  Entry* find(const std::string& name);
  const Entry* find(const std::string& name) const;
  /// Entry or ENOENT "no container NAME".
  Result<Entry*> get(const std::string& name);
  /// Marks an entry busy for one operation; EBUSY when another holds it.
  Status acquire(const std::string& name);
  void release(const std::string& name);
  std::vector<const Entry*> all() const;
  size_t size() const { return entries_.size(); }

private:
  std::map<std::string, Entry> entries_;
};

}  // namespace berth::supervisor
