// parallel.h — runs a few jobs at once on plain threads; the first error
// stops the rest.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "berth/base/error.h"

namespace berth::images {

/// Runs fn(0..n-1) on up to `threads` threads. The first job to fail has
/// `on_error` called (to cancel transfers in flight), no new job starts,
/// and its error is returned once every thread has stopped.
inline Status run_parallel(size_t n, unsigned threads, const std::function<Status(size_t)>& fn,
                           const std::function<void()>& on_error) {
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  std::optional<Error> first;
  auto worker = [&] {
    for (size_t i; !failed.load() && (i = next.fetch_add(1)) < n;) {
      auto st = fn(i);
      if (st) continue;
      std::lock_guard<std::mutex> g(mu);
      if (!first) {
        first = std::move(st).error();
        failed = true;
        if (on_error) on_error();
      }
      return;
    }
  };
  size_t count = std::min<size_t>(n, std::max(1u, threads));
  if (count <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < count; ++t) pool.emplace_back(worker);
    for (auto& t : pool) t.join();
  }
  if (first) return std::move(*first);
  return {};
}

}  // namespace berth::images
