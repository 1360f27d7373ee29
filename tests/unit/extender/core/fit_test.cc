#include "extender/core/fit.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::core {
namespace {

using testing_support::kMi;
using testing_support::kSecondNs;
using testing_support::NodeBuilder;
using testing_support::pod;

constexpr std::int64_t kNowNs = 1000 * kSecondNs;
constexpr std::int64_t kStaleAfterNs = 30 * kSecondNs;

// A healthy node reported 1 s ago: 1024Mi EPC with 256Mi requested (768Mi free), enclave slots
// 2 of 10 used, provision slots 0 of 2 used.
NodeBuilder healthy() {
  return NodeBuilder()
      .epc(1024 * kMi, 256 * kMi)
      .enclave_slots(10, 2)
      .provision_slots(2, 0)
      .reported_at(kNowNs - kSecondNs);
}

struct FitRow {
  std::string_view name;
  PodRequest pod;
  NodeRow node;
  std::int64_t headroom_bytes;
  std::int64_t stale_after_ns;
  FitResult want;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const FitRow& row, std::ostream* os) { *os << row.name; }

FitResult fits() { return FitResult{}; }
FitResult failure(FitReason reason, bool unresolvable, std::int64_t requested = 0,
                  std::int64_t available = 0, std::int64_t capacity = 0) {
  return FitResult{reason, unresolvable, requested, available, capacity};
}

const FitRow kRows[] = {
    // 512Mi ≤ 768Mi free, 1 ≤ 8 free slots.
    {"Fits", pod(512 * kMi, 1), healthy(), 0, kStaleAfterNs, fits()},
    // Exactly the free amount: 768Mi ≤ 768Mi, 8 ≤ 8.
    {"ExactFit", pod(768 * kMi, 8), healthy(), 0, kStaleAfterNs, fits()},
    // No SGX demand: fits even a node that never reported.
    {"NoSgxPodFitsUnknownNode", pod(0), healthy().never_reported(), 0, kStaleAfterNs, fits()},
    // Never reported: unresolvable.
    {"NoReport", pod(64 * kMi, 1), healthy().never_reported(), 0, kStaleAfterNs,
     failure(FitReason::kNoReport, true)},
    // Reported, but no SGX: unresolvable.
    {"NoSgx", pod(64 * kMi, 1), healthy().no_sgx(), 0, kStaleAfterNs,
     failure(FitReason::kNoSgx, true)},
    // Devices unhealthy: resolvable (the plugin may recover).
    {"Unhealthy", pod(64 * kMi, 1), healthy().unhealthy(), 0, kStaleAfterNs,
     failure(FitReason::kUnhealthy, false)},
    // Age 31 s > 30 s: stale; requested = age, capacity = threshold.
    {"Stale", pod(64 * kMi, 1), healthy().reported_at(kNowNs - 31 * kSecondNs), 0, kStaleAfterNs,
     failure(FitReason::kStaleReport, false, 31 * kSecondNs, 0, kStaleAfterNs)},
    // Age exactly 30 s is not "older than" 30 s.
    {"StaleBoundary", pod(64 * kMi, 1), healthy().reported_at(kNowNs - 30 * kSecondNs), 0,
     kStaleAfterNs, fits()},
    // stale_after 0 turns staleness off: a report from time 0 is fine.
    {"StalenessOff", pod(64 * kMi, 1), healthy().reported_at(0), 0, 0, fits()},
    // 2048Mi > 1024Mi capacity: unresolvable; available = 1024 − 256 = 768.
    {"EpcCapacityTooSmall", pod(2048 * kMi, 1), healthy(), 0, kStaleAfterNs,
     failure(FitReason::kEpcCapacityTooSmall, true, 2048 * kMi, 768 * kMi, 1024 * kMi)},
    // Headroom 100Mi: usable 924Mi < 1000Mi; available = 924 − 256 = 668.
    {"HeadroomMakesCapacityTooSmall", pod(1000 * kMi, 1), healthy(), 100 * kMi, kStaleAfterNs,
     failure(FitReason::kEpcCapacityTooSmall, true, 1000 * kMi, 668 * kMi, 924 * kMi)},
    // 800Mi > 768Mi free, but ≤ 1024Mi capacity: resolvable.
    {"InsufficientEpc", pod(800 * kMi, 1), healthy(), 0, kStaleAfterNs,
     failure(FitReason::kInsufficientEpc, false, 800 * kMi, 768 * kMi, 1024 * kMi)},
    // Headroom 100Mi: free = 1024 − 100 − 256 = 668 < 700.
    {"HeadroomMakesEpcInsufficient", pod(700 * kMi, 1), healthy(), 100 * kMi, kStaleAfterNs,
     failure(FitReason::kInsufficientEpc, false, 700 * kMi, 668 * kMi, 924 * kMi)},
    // Live use 900Mi > requested 256Mi: free = 1024 − 900 = 124 < 200.
    {"LiveUseAboveRequested", pod(200 * kMi, 1), healthy().live_used(900 * kMi), 0, kStaleAfterNs,
     failure(FitReason::kInsufficientEpc, false, 200 * kMi, 124 * kMi, 1024 * kMi)},
    // Live use 100Mi < requested 256Mi: free stays 768 ≥ 700.
    {"LiveUseBelowRequested", pod(700 * kMi, 1), healthy().live_used(100 * kMi), 0, kStaleAfterNs,
     fits()},
    // 11 slots > 10 total: unresolvable; free = 10 − 2 = 8.
    {"EnclaveSlotsTooFew", pod(64 * kMi, 11), healthy(), 0, kStaleAfterNs,
     failure(FitReason::kEnclaveSlotsTooFew, true, 11, 8, 10)},
    // All 10 used: 1 > 0 free, resolvable.
    {"InsufficientEnclaveSlots", pod(64 * kMi, 1), healthy().enclave_slots(10, 10), 0,
     kStaleAfterNs, failure(FitReason::kInsufficientEnclaveSlots, false, 1, 0, 10)},
    // 3 provision slots > 2 total: unresolvable.
    {"ProvisionSlotsTooFew", pod(0, 0, 3), healthy(), 0, kStaleAfterNs,
     failure(FitReason::kProvisionSlotsTooFew, true, 3, 2, 2)},
    // Both provision slots used: 1 > 0, resolvable.
    {"InsufficientProvisionSlots", pod(0, 0, 1), healthy().provision_slots(2, 2), 0, kStaleAfterNs,
     failure(FitReason::kInsufficientProvisionSlots, false, 1, 0, 2)},

    // Order: no report beats every other problem.
    {"OrderNoReportFirst", pod(4096 * kMi, 99), healthy().never_reported().no_sgx().unhealthy(), 0,
     kStaleAfterNs, failure(FitReason::kNoReport, true)},
    // Order: health before staleness.
    {"OrderUnhealthyBeforeStale", pod(64 * kMi, 1), healthy().unhealthy().reported_at(0), 0,
     kStaleAfterNs, failure(FitReason::kUnhealthy, false)},
    // Order: staleness before capacity.
    {"OrderStaleBeforeCapacity", pod(4096 * kMi, 1), healthy().reported_at(0), 0, kStaleAfterNs,
     failure(FitReason::kStaleReport, false, kNowNs, 0, kStaleAfterNs)},
    // Order: any capacity problem before any free problem (slots full, EPC too small).
    {"OrderCapacityBeforeFree", pod(2048 * kMi, 1), healthy().enclave_slots(10, 10), 0,
     kStaleAfterNs,
     failure(FitReason::kEpcCapacityTooSmall, true, 2048 * kMi, 768 * kMi, 1024 * kMi)},
    // Order: EPC before slots among free problems: 800 > 768 and 1 > 0.
    {"OrderEpcBeforeSlots", pod(800 * kMi, 1), healthy().enclave_slots(10, 10), 0, kStaleAfterNs,
     failure(FitReason::kInsufficientEpc, false, 800 * kMi, 768 * kMi, 1024 * kMi)},
};

class FitTest : public testing::TestWithParam<FitRow> {};

TEST_P(FitTest, Row) {
  const FitRow& row = GetParam();
  const FitContext context{.now_ns = kNowNs,
                           .stale_after_ns = row.stale_after_ns,
                           .accounting = {.epc_headroom_bytes = row.headroom_bytes}};
  const FitResult got = fit(row.pod, row.node, context);
  EXPECT_EQ(static_cast<int>(got.reason), static_cast<int>(row.want.reason));
  EXPECT_EQ(got.unresolvable, row.want.unresolvable);
  EXPECT_EQ(got.requested, row.want.requested);
  EXPECT_EQ(got.available, row.want.available);
  EXPECT_EQ(got.capacity, row.want.capacity);
  EXPECT_EQ(got.fits(), row.want.reason == FitReason::kFits);
}

INSTANTIATE_TEST_SUITE_P(Rows, FitTest, testing::ValuesIn(kRows), testing_support::RowName());

TEST(FitReasonTest, CountMatchesEnum) {
  EXPECT_EQ(static_cast<int>(FitReason::kInsufficientProvisionSlots) + 1, kFitReasonCount);
}

}  // namespace
}  // namespace epc::core
