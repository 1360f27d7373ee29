#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <thread>

namespace epc::kube {

// Client-side request rate limit: a token bucket of `burst` tokens refilled at `qps` per second,
// shared by every API client of the process (client-go's QPS/Burst). acquire() blocks the calling
// thread until a token is free; it never spins. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(double qps, int burst)
      : qps_(qps), burst_(std::max(burst, 1)), tokens_(static_cast<double>(burst_)) {}

  // Takes one token, waiting for it if needed. qps <= 0 means unlimited.
  void acquire() {
    if (qps_ <= 0) {
      return;
    }
    std::chrono::steady_clock::duration wait{};
    {
      std::lock_guard lock(mutex_);
      refill(std::chrono::steady_clock::now());
      tokens_ -= 1.0;  // may go negative: later callers queue behind this one
      if (tokens_ < 0) {
        wait = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(-tokens_ / qps_));
      }
    }
    if (wait.count() > 0) {
      std::this_thread::sleep_for(wait);
    }
  }

 private:
  void refill(std::chrono::steady_clock::time_point now) {
    if (last_.time_since_epoch().count() != 0) {
      const double elapsed = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(static_cast<double>(burst_), tokens_ + elapsed * qps_);
    }
    last_ = now;
  }

  const double qps_;
  const int burst_;
  std::mutex mutex_;
  double tokens_;                               // guarded by mutex_
  std::chrono::steady_clock::time_point last_;  // guarded by mutex_
};

}  // namespace epc::kube
