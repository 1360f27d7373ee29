#pragma once

#include <algorithm>
#include <cstdint>
#include <random>

namespace epc::kube {

// Exponential backoff with full jitter for retries against kube-apiserver: the n-th consecutive
// failure waits a uniform random time in [base·2ⁿ/2, base·2ⁿ], capped. Jitter spreads the replicas
// of a fleet that lost the apiserver together, so they do not come back in lock step; the cap
// keeps a long outage from growing the wait without bound. Never zero: no tight loop.
class Backoff {
 public:
  Backoff(std::int64_t base_ms, std::int64_t cap_ms, std::uint64_t seed)
      : base_ms_(std::max<std::int64_t>(base_ms, 1)),
        cap_ms_(std::max(cap_ms, base_ms_)),
        random_(seed) {}

  // The wait before the next attempt; grows with each call until reset().
  std::int64_t next_ms() {
    std::int64_t ceiling = base_ms_;
    for (int i = 0; i < failures_ && ceiling < cap_ms_; ++i) {
      ceiling *= 2;
    }
    ceiling = std::min(ceiling, cap_ms_);
    ++failures_;
    std::uniform_int_distribution<std::int64_t> pick(std::max<std::int64_t>(ceiling / 2, 1),
                                                     ceiling);
    return pick(random_);
  }

  // A success: the next failure starts from the base again.
  void reset() { failures_ = 0; }
  int failures() const { return failures_; }

 private:
  std::int64_t base_ms_;
  std::int64_t cap_ms_;
  int failures_ = 0;
  std::mt19937_64 random_;
};

}  // namespace epc::kube
