// events.cpp — event keys: <prefix>events/<unix ms, 15 digits>-<seq>.
#include "berth/cluster/events.h"

#include <cstdio>
#include <ctime>

#include "berth/base/log.h"

namespace berth::cluster {

json::Value fields(std::initializer_list<std::pair<const char*, std::string>> kv) {
  json::Value v = json::Value::object();
  for (const auto& [k, x] : kv) v.set(k, x);
  return v;
}

void EventLog::open(Etcd& etcd) {
  auto l = etcd.lease_grant(kTtl);
  if (!l) {
    log::warn("events: lease: " + l.error().what());
    return;
  }
  lease_ = l->id;
  granted_ = std::chrono::steady_clock::now();
}

Op EventLog::make(std::string_view kind, json::Value detail) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t ms = int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
  char name[64];
  std::snprintf(name, sizeof name, "%015lld-%08llu", static_cast<long long>(ms),
                static_cast<unsigned long long>(seq_++ % 100000000));
  json::Value v = json::Value::object();
  v.set("time", log::rfc3339_now());
  v.set("kind", kind);
  if (detail.is_object())
    for (auto& [k, x] : detail.as_object()) v.set(k, std::move(x));
  std::string key = keys_.events() + name;
  if (!source_.empty()) key += "-" + source_;
  return Op::put(key, json::dump(v), lease_.load());
}

void EventLog::append_op(std::vector<Op>& ops, std::string_view kind, json::Value detail) {
  ops.push_back(make(kind, std::move(detail)));
}

void EventLog::add(std::string_view kind, json::Value detail) { pending_.push_back(make(kind, std::move(detail))); }

void EventLog::tick(Etcd& etcd) {
  if (lease_.load() && std::chrono::steady_clock::now() - granted_ > std::chrono::seconds(kTtl / 6)) open(etcd);
  if (pending_.empty()) return;
  for (size_t i = 0; i < pending_.size(); i += 100) {
    std::vector<Op> ops(pending_.begin() + i, pending_.begin() + std::min(pending_.size(), i + 100));
    auto t = etcd.txn({}, ops);
    if (!t) log::warn("events: " + t.error().what());
  }
  pending_.clear();
}

}  // namespace berth::cluster
