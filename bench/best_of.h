// best_of.h — the time of one call, the least of three rounds (the benchmark programs' one timer).
#pragma once

#include <algorithm>
#include <chrono>

namespace berth::bench {

/// Seconds per call of f: three rounds of `reps` calls, the fastest round's
/// mean (the others lost time to the rest of the machine).
template <typename F>
double best_of_three(int reps, F f) {
  double best = 1e300;
  for (int round = 0; round < 3; ++round) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
    best = std::min(best, d.count() / reps);
  }
  return best;
}

}  // namespace berth::bench
