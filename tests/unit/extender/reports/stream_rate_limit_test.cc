#include "extender/reports/stream_rate_limit.h"

#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace epc::reports {
namespace {

constexpr std::int64_t kMs = 1'000'000;  // ns
constexpr std::int64_t kS = 1000 * kMs;

// One message offered at `at_ns` (from a start of 10 s, any monotonic origin) and whether it
// passes.
struct Offer {
  std::int64_t at_ns;
  bool admitted;
};

struct Case {
  std::string name;
  std::int64_t rate_per_s;
  std::int64_t burst;
  std::vector<Offer> offers;
};

// The clock is injected: every row is exact, whatever the machine's speed.
const std::vector<Case>& cases() {
  static const std::vector<Case> kCases = {
      // The burst passes at once; the next message finds the bucket empty.
      {"burst_of_3_then_empty", 1, 3, {{0, true}, {0, true}, {0, true}, {0, false}}},
      // 10/s: one token per 100 ms. After the burst of 2, 99 ms gives 0.99 tokens (refused, and the
      // refusal takes nothing), 100 ms gives 1.0 (admitted).
      {"refill_is_exact_and_refusals_take_nothing",
       10,
       2,
       {{0, true}, {0, true}, {99 * kMs, false}, {100 * kMs, true}, {100 * kMs, false}}},
      // A long silence refills to the burst, never beyond: 1 hour at 50/s would be 180,000.
      {"silence_refills_to_the_burst_only",
       50,
       2,
       {{0, true}, {0, true}, {3600 * kS, true}, {3600 * kS, true}, {3600 * kS, false}}},
      // A plugin's traffic: a heartbeat every 10 s at the default 50/s, burst 500: never refused.
      {"heartbeats_are_far_below_the_default",
       50,
       500,
       {{0, true}, {10 * kS, true}, {20 * kS, true}, {30 * kS, true}}},
      // Sustained exactly at the rate (one per 20 ms at 50/s) with a burst of 1: every one passes.
      {"exactly_at_the_rate_passes",
       50,
       1,
       {{0, true}, {20 * kMs, true}, {40 * kMs, true}, {60 * kMs, true}}},
      // Twice the rate with a burst of 1: every second one is refused.
      {"twice_the_rate_half_refused",
       50,
       1,
       {{0, true}, {10 * kMs, false}, {20 * kMs, true}, {30 * kMs, false}, {40 * kMs, true}}},
      // Rate 0: no limit.
      {"rate_zero_is_unlimited", 0, 1, {{0, true}, {0, true}, {0, true}, {0, true}}},
      // A burst below 1 is taken as 1 (the config refuses it; the class does not trust that).
      {"burst_zero_is_one", 5, 0, {{0, true}, {0, false}, {200 * kMs, true}}},
      // A clock that steps back (it should not: monotonic) refills nothing.
      {"time_going_back_refills_nothing", 10, 1, {{kS, true}, {0, false}, {kS, false}}},
      // The largest configured values: 1e6/s with a burst of 1e6, an hour apart, no overflow.
      {"largest_values_do_not_overflow",
       1'000'000,
       1'000'000,
       {{0, true}, {3600 * kS, true}, {3600 * kS + 1, true}}},
  };
  return kCases;
}

TEST(StreamRateLimit, table) {
  for (const Case& row : cases()) {
    StreamRateLimit limit(row.rate_per_s, row.burst);
    for (std::size_t i = 0; i < row.offers.size(); ++i) {
      const Offer& offer = row.offers[i];
      EXPECT_EQ(limit.admit(10 * kS + offer.at_ns), offer.admitted)
          << row.name << ", offer " << i << " at " << offer.at_ns << " ns";
    }
  }
}

}  // namespace
}  // namespace epc::reports
