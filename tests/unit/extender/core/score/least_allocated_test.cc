#include "extender/core/score/least_allocated.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::core::score {
namespace {

using testing_support::kMi;
using testing_support::NodeBuilder;
using testing_support::pod;

// Parity rows: kube-scheduler's leastRequestedScore and weighted average worked by hand.
// Base node: 1024Mi EPC with 256Mi requested; 10 enclave slots with 2 used.
NodeBuilder base() { return NodeBuilder().epc(1024 * kMi, 256 * kMi).enclave_slots(10, 2); }

struct Row {
  std::string_view name;
  PodRequest pod;
  NodeRow node;
  std::int64_t headroom_bytes;
  ScoreWeights weights;
  std::int64_t want_raw;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

const Row kRows[] = {
    // EPC: (1024 − 512)·100/1024 = 50; slots: (10 − 3)·100/10 = 70; (50 + 70)/2 = 60.
    {"EqualWeights", pod(256 * kMi, 1), base(), 0, {1, 1}, 60},
    // (50·3 + 70·1)/4 = 220/4 = 55.
    {"EpcWeighted3To1", pod(256 * kMi, 1), base(), 0, {3, 1}, 55},
    // Slot weight 0: EPC alone, 50.
    {"SlotsOff", pod(256 * kMi, 1), base(), 0, {1, 0}, 50},
    // EPC weight 0: slots alone, 70.
    {"EpcOff", pod(256 * kMi, 1), base(), 0, {0, 1}, 70},
    // The pod requests no slot: kube skips an extended resource the pod does not request → 50.
    {"UnrequestedSlotsSkipped", pod(256 * kMi, 0), base(), 0, {1, 1}, 50},
    // Live 1000Mi: used = max(256, 1000) = 1000, q = 1256 > 1024 → 0; (0 + 70)/2 = 35.
    {"OverCommittedScoresZero", pod(256 * kMi, 1), base().live_used(1000 * kMi), 0, {1, 1}, 35},
    // Headroom 24Mi: c = 1000Mi, q = 512Mi: 488·100/1000 = 48.8 → 48; (48 + 70)/2 = 59.
    {"Headroom", pod(256 * kMi, 1), base(), 24 * kMi, {1, 1}, 59},
    // 3 slots, pod 1, EPC not requested: (3 − 1)·100/3 = 66.67 → 66.
    {"IntegerDivision", pod(0, 1), NodeBuilder().enclave_slots(3), 0, {1, 1}, 66},
    // Node without slot capacity: kube skips zero-allocatable resources → EPC alone, 50.
    {"ZeroCapacitySkipped", pod(256 * kMi, 1), base().enclave_slots(0), 0, {1, 1}, 50},
    // No SGX demand: nothing to score → 0.
    {"NoDemand", pod(0), base(), 0, {1, 1}, 0},
    // Empty node: EPC (1024 − 256)·100/1024 = 75; slots (10 − 1)·100/10 = 90; 165/2 = 82.
    {"EmptyNode",
     pod(256 * kMi, 1),
     NodeBuilder().epc(1024 * kMi).enclave_slots(10),
     0,
     {1, 1},
     82},
    // 2^62 capacity, 2^61 requested: (2^62 − 2^61)·100/2^62 = 50 without int64 overflow.
    {"HugeCapacity",
     pod(std::int64_t{1} << 61, 1),
     NodeBuilder().epc(std::int64_t{1} << 62),
     0,
     {1, 0},
     50},
};

class LeastAllocatedTest : public testing::TestWithParam<Row> {};

TEST_P(LeastAllocatedTest, Row) {
  const Row& row = GetParam();
  const ScoreContext context{.accounting = {.epc_headroom_bytes = row.headroom_bytes},
                             .weights = row.weights};
  EXPECT_EQ(least_allocated_raw(row.pod, row.node, context), row.want_raw);
}

INSTANTIATE_TEST_SUITE_P(Rows, LeastAllocatedTest, testing::ValuesIn(kRows),
                         testing_support::RowName());

struct ResourceRow {
  std::string_view name;
  std::int64_t requested;
  std::int64_t capacity;
  std::int64_t want;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const ResourceRow& row, std::ostream* os) { *os << row.name; }

const ResourceRow kResourceRows[] = {
    {"NothingRequested", 0, 100, 100},  // (100 − 0)·100/100
    {"Quarter", 25, 100, 75},           // (100 − 25)·100/100
    {"Full", 100, 100, 0},              // (100 − 100)·100/100
    {"OverCapacity", 101, 100, 0},      // requested > capacity → 0
    {"ZeroCapacity", 5, 0, 0},          // capacity 0 → 0
    {"RoundsDown", 1, 3, 66},           // 2·100/3 = 66.67
};

class LeastRequestedScoreTest : public testing::TestWithParam<ResourceRow> {};

TEST_P(LeastRequestedScoreTest, Row) {
  EXPECT_EQ(least_requested_score(GetParam().requested, GetParam().capacity), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Rows, LeastRequestedScoreTest, testing::ValuesIn(kResourceRows),
                         testing_support::RowName());

}  // namespace
}  // namespace epc::core::score
