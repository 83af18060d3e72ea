// operations.cpp — the table of operations.
#include "berth/supervisor/operations.h"

#include <algorithm>

#include "berth/base/log.h"
#include "berth/supervisor/api.h"

namespace berth::supervisor {

namespace {
constexpr size_t kKeepFinished = 1000;
}

std::string Operations::begin(const std::string& action, const std::string& target, const std::string& by,
                              const std::string& fingerprint) {
  std::lock_guard lock(mu_);
  std::string id = std::to_string(next_++);
  json::Value d = json::Value::object();
  d.set("id", id);
  d.set("action", action);
  d.set("target", target);
  if (!by.empty()) d.set("by", by);
  if (!fingerprint.empty()) d.set("fingerprint", fingerprint);
  d.set("status", "running");
  d.set("may_cancel", false);
  d.set("created", log::rfc3339_now());
  ops_[id].doc = std::move(d);
  order_.push_back(id);
  trim();
  return id;
}

void Operations::progress(const std::string& id, json::Value progress) {
  std::lock_guard lock(mu_);
  auto it = ops_.find(id);
  if (it != ops_.end() && !it->second.done) it->second.doc.set("progress", std::move(progress));
}

void Operations::cancellable(const std::string& id, std::shared_ptr<std::atomic<bool>> flag) {
  std::lock_guard lock(mu_);
  auto it = ops_.find(id);
  if (it == ops_.end() || it->second.done) return;
  it->second.cancel = std::move(flag);
  it->second.doc.set("may_cancel", true);
}

Status Operations::cancel(const std::string& id, const std::string& by) {
  std::lock_guard lock(mu_);
  auto it = ops_.find(id);
  if (it == ops_.end()) return Error(ENOENT, "no operation " + id);
  Op& op = it->second;
  if (op.done) return Error(EALREADY, "operation " + id + " has already finished");
  if (!op.cancel) return Error::msg("operation " + id + " (" + op.doc.find("action")->as_string() + ") cannot be cancelled");
  if (op.cancelled_by.empty()) op.cancelled_by = by.empty() ? "?" : by;
  op.doc.set("status", "cancelling");
  op.cancel->store(true);
  return ok();
}

void Operations::finish(const std::string& id, Result<json::Value> result) {
  std::vector<Waiter> waiters;
  json::Value doc;
  {
    std::lock_guard lock(mu_);
    auto it = ops_.find(id);
    if (it == ops_.end()) return;
    Op& op = it->second;
    bool cancelled = !result && !op.cancelled_by.empty();
    op.doc.set("status", result ? "success" : cancelled ? "cancelled" : "failure");
    if (cancelled) result = Error(ECANCELED, "cancelled by " + op.cancelled_by);
    op.doc.set("finished", log::rfc3339_now());
    if (result) op.doc.set("result", std::move(*result));
    else {
      op.doc.set("error", describe(result.error()));
      op.doc.set("code", status_for(result.error()));  // the HTTP status the error would have had
    }
    op.done = true;
    waiters.swap(op.waiters);
    doc = op.doc;
  }
  for (auto& w : waiters) w(doc);
}

Result<json::Value> Operations::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = ops_.find(id);
  if (it == ops_.end()) return Error(ENOENT, "no operation " + id);
  return it->second.doc;
}

Status Operations::wait(const std::string& id, Waiter w) {
  json::Value doc;
  {
    std::lock_guard lock(mu_);
    auto it = ops_.find(id);
    if (it == ops_.end()) return Error(ENOENT, "no operation " + id);
    if (!it->second.done) {
      it->second.waiters.push_back(std::move(w));
      return ok();
    }
    doc = it->second.doc;
  }
  w(doc);
  return ok();
}

json::Value Operations::list() const {
  std::lock_guard lock(mu_);
  json::Value a = json::Value::array();
  for (const auto& id : order_) a.push_back(ops_.at(id).doc);
  return a;
}

void Operations::trim() {
  while (order_.size() > kKeepFinished) {
    auto it = std::find_if(order_.begin(), order_.end(), [&](const std::string& id) { return ops_[id].done; });
    if (it == order_.end()) return;
    ops_.erase(*it);
    order_.erase(it);
  }
}

}  // namespace berth::supervisor
