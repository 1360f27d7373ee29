#include "extender/kube/rate_limiter.h"

#include <chrono>

#include <gtest/gtest.h>

namespace epc::kube {
namespace {

using Clock = std::chrono::steady_clock;

TEST(RateLimiter, a_burst_passes_at_once_then_requests_are_paced) {
  RateLimiter limiter(/*qps=*/50, /*burst=*/5);
  const auto start = Clock::now();
  for (int i = 0; i < 5; ++i) {
    limiter.acquire();
  }
  const auto after_burst = Clock::now() - start;
  for (int i = 0; i < 10; ++i) {
    limiter.acquire();
  }
  // 10 more at 50/s need at least ~200 ms (less a token refilled meanwhile), whereas the burst
  // itself never slept: the pacing is the limiter's, not the machine's.
  EXPECT_GE(Clock::now() - start, std::chrono::milliseconds(170));
  EXPECT_LT(after_burst, Clock::now() - start - std::chrono::milliseconds(150));
}

TEST(RateLimiter, zero_qps_is_unlimited) {
  // At 1 per second with a burst of 1, 1,000 acquires would take 16 minutes (ctest's timeout
  // fails it); unlimited returns at once.
  RateLimiter limiter(0, 1);
  for (int i = 0; i < 1000; ++i) {
    limiter.acquire();
  }
  SUCCEED();
}

}  // namespace
}  // namespace epc::kube
