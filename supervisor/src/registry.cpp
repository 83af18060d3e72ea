// registry.cpp — the in-memory table of containers.
#include "berth/supervisor/registry.h"

namespace berth::supervisor {

const char* state_name(State s) {
  switch (s) {
    case State::starting: return "starting";
    case State::running: return "running";
    case State::stopping: return "stopping";
    case State::suspended: return "suspended";
    default: return "stopped";
  }
}

Status Registry::add(Record r) {
  std::string name = r.name;
  if (entries_.count(name)) return Error(EEXIST, "container " + name + " already exists");
  entries_[name].record = std::move(r);
  return ok();
}

void Registry::remove(const std::string& name) { entries_.erase(name); }

Entry* Registry::find(const std::string& name) {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

const Entry* Registry::find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

Result<Entry*> Registry::get(const std::string& name) {
  Entry* e = find(name);
  if (!e) return Error(ENOENT, "no container " + name);
  return e;
}

Status Registry::acquire(const std::string& name) {
  Entry* e = BERTH_TRY(get(name));
  if (e->busy) return Error(EBUSY, "container " + name + " is busy with another operation");
  e->busy = true;
  return ok();
}

void Registry::release(const std::string& name) {
  if (Entry* e = find(name)) e->busy = false;
}

std::vector<const Entry*> Registry::all() const {
  std::vector<const Entry*> out;
  for (const auto& [_, e] : entries_) out.push_back(&e);
  return out;
}

}  // namespace berth::supervisor
