#include "extender/core/score/most_allocated.h"

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

// Parity rows: kube-scheduler's mostRequestedScore and weighted average worked by hand.
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
    // EPC: 512·100/1024 = 50; slots: 3·100/10 = 30; (50 + 30)/2 = 40.
    {"EqualWeights", pod(256 * kMi, 1), base(), 0, {1, 1}, 40},
    // (50·3 + 30·1)/4 = 180/4 = 45.
    {"EpcWeighted3To1", pod(256 * kMi, 1), base(), 0, {3, 1}, 45},
    // Slot weight 0: 50.
    {"SlotsOff", pod(256 * kMi, 1), base(), 0, {1, 0}, 50},
    // The pod requests no slot: skipped as kube does for extended resources → 50.
    {"UnrequestedSlotsSkipped", pod(256 * kMi, 0), base(), 0, {1, 1}, 50},
    // Live 1000Mi: q = 1256 clamped to 1024 → 100; (100 + 30)/2 = 65.
    {"OverCommittedClamps", pod(256 * kMi, 1), base().live_used(1000 * kMi), 0, {1, 1}, 65},
    // Headroom 24Mi: c = 1000Mi, q = 512Mi: 512·100/1000 = 51.2 → 51; (51 + 30)/2 = 40.5 → 40.
    {"Headroom", pod(256 * kMi, 1), base(), 24 * kMi, {1, 1}, 40},
    // Empty node: EPC 256·100/1024 = 25; slots 1·100/10 = 10; 35/2 = 17.
    {"EmptyNode",
     pod(256 * kMi, 1),
     NodeBuilder().epc(1024 * kMi).enclave_slots(10),
     0,
     {1, 1},
     17},
    // Full after placement: EPC 1024/1024 → 100, slots 10/10 → 100.
    {"FullAfterPlacement",
     pod(256 * kMi, 1),
     NodeBuilder().epc(1024 * kMi, 768 * kMi).enclave_slots(10, 9),
     0,
     {1, 1},
     100},
    // Node without slot capacity: skipped → EPC alone, 50.
    {"ZeroCapacitySkipped", pod(256 * kMi, 1), base().enclave_slots(0), 0, {1, 1}, 50},
    // No SGX demand → 0.
    {"NoDemand", pod(0), base(), 0, {1, 1}, 0},
};

class MostAllocatedTest : public testing::TestWithParam<Row> {};

TEST_P(MostAllocatedTest, Row) {
  const Row& row = GetParam();
  const ScoreContext context{.accounting = {.epc_headroom_bytes = row.headroom_bytes},
                             .weights = row.weights};
  EXPECT_EQ(most_allocated_raw(row.pod, row.node, context), row.want_raw);
}

INSTANTIATE_TEST_SUITE_P(Rows, MostAllocatedTest, testing::ValuesIn(kRows),
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
    {"NothingRequested", 0, 100, 0},  // 0·100/100
    {"Quarter", 25, 100, 25},         // 25·100/100
    {"Full", 100, 100, 100},
    {"OverCapacityClamps", 150, 100, 100},  // min(150, 100)·100/100
    {"ZeroCapacity", 5, 0, 0},
    {"RoundsDown", 2, 3, 66},  // 2·100/3 = 66.67
};

class MostRequestedScoreTest : public testing::TestWithParam<ResourceRow> {};

TEST_P(MostRequestedScoreTest, Row) {
  EXPECT_EQ(most_requested_score(GetParam().requested, GetParam().capacity), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Rows, MostRequestedScoreTest, testing::ValuesIn(kResourceRows),
                         testing_support::RowName());

}  // namespace
}  // namespace epc::core::score
