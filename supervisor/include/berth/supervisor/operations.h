// operations.h — long actions as operations with ids: created when the API
// accepts a request, finished by the worker that ran it; waiters are called
// back once. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "berth/base/error.h"
#include "berth/base/json.h"

namespace berth::supervisor {

class Operations {
public:
  using Waiter = std::function<void(const json::Value& op)>;

  /// A new running operation: "start" on "web1", asked by `by` ("uid 0 pid 42").
  /// `fingerprint`: the asking client certificate's, which owns it.
  std::string begin(const std::string& action, const std::string& target, const std::string& by = "",
                    const std::string& fingerprint = "");
  /// Sets the running operation's "progress" document (a pull's blobs).
  void progress(const std::string& id, json::Value progress);
  /// Makes the running operation cancellable ("may_cancel": true): cancel()
  /// sets `flag`, which the work polls and then fails.
  void cancellable(const std::string& id, std::shared_ptr<std::atomic<bool>> flag);
  /// Asks a running operation to stop, as `by` asked: ENOENT when there is
  /// no such operation, EALREADY when it has finished, a plain error (400)
  /// when it cannot be cancelled. The operation ends "cancelled" unless its work finished
  /// first.
  Status cancel(const std::string& id, const std::string& by);
  /// Records the outcome and calls every waiter.
  void finish(const std::string& id, Result<json::Value> result);
  /// The operation's document, or ENOENT.
  Result<json::Value> get(const std::string& id) const;
  /// Calls `w` when the operation is done (at once if it already is);
  /// ENOENT when there is no such operation.
  Status wait(const std::string& id, Waiter w);
  json::Value list() const;

private:
  struct Op {
    json::Value doc;
    bool done = false;
    std::shared_ptr<std::atomic<bool>> cancel;  // set: cancellable
    std::string cancelled_by;                   // set: cancel asked
    std::vector<Waiter> waiters;
  };
  void trim();  // forgets the oldest finished operations past a bound
  mutable std::mutex mu_;
  std::map<std::string, Op> ops_;
  std::vector<std::string> order_;
  unsigned long next_ = 1;
};

}  // namespace berth::supervisor
