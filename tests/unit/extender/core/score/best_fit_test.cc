#include "extender/core/score/best_fit.h"

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "extender/core/score/most_allocated.h"
#include "tests/unit/extender/core/test_rows.h"

namespace epc::core::score {
namespace {

using testing_support::kGi;
using testing_support::kMi;
using testing_support::NodeBuilder;
using testing_support::pod;

constexpr ScoreWeights kEpcOnly{.epc = 1, .enclave_slots = 0};
constexpr ScoreWeights kBoth{.epc = 1, .enclave_slots = 1};

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
    // Free 1024 − 768 = 256 = the pod: 256/256 · 10^6.
    {"PerfectFit", pod(256 * kMi, 1), NodeBuilder().epc(1024 * kMi, 768 * kMi), 0, kEpcOnly,
     1'000'000},
    // Free 512: 256/512 · 10^6 = 500000.
    {"HalfOfFree", pod(256 * kMi, 1), NodeBuilder().epc(1024 * kMi, 512 * kMi), 0, kEpcOnly,
     500'000},
    // Free 768: 256/768 · 10^6 = 333333.3 → 333333.
    {"ThirdOfFree", pod(256 * kMi, 1), NodeBuilder().epc(1024 * kMi, 256 * kMi), 0, kEpcOnly,
     333'333},
    // Headroom 256: free = 1024 − 256 − 512 = 256 → perfect fit.
    {"Headroom", pod(256 * kMi, 1), NodeBuilder().epc(1024 * kMi, 512 * kMi), 256 * kMi, kEpcOnly,
     1'000'000},
    // Live 768 > requested 256: free = 256 → perfect fit.
    {"LiveUse", pod(256 * kMi, 1), NodeBuilder().epc(1024 * kMi, 256 * kMi).live_used(768 * kMi), 0,
     kEpcOnly, 1'000'000},
    // Free 124 < 256: does not fit → 0 (the worst, never the best).
    {"DoesNotFit", pod(256 * kMi, 1), NodeBuilder().epc(1024 * kMi, 900 * kMi), 0, kEpcOnly, 0},
    // Both weights: EPC 256/512 → 500000; slots 1/(10 − 6) → 250000; (500000 + 250000)/2 = 375000.
    {"WithSlots", pod(256 * kMi, 1), NodeBuilder().epc(1024 * kMi, 512 * kMi).enclave_slots(10, 6),
     0, kBoth, 375'000},
    // Slots only (no EPC requested): 1/(10 − 2) · 10^6 = 125000.
    {"SlotsOnlyPod", pod(0, 1), NodeBuilder().epc(1024 * kMi).enclave_slots(10, 2), 0, kBoth,
     125'000},
    // No demand → 0.
    {"NoDemand", pod(0), NodeBuilder().epc(1024 * kMi).enclave_slots(10), 0, kBoth, 0},
};

class BestFitTest : public testing::TestWithParam<Row> {};

TEST_P(BestFitTest, Row) {
  const Row& row = GetParam();
  const ScoreContext context{.accounting = {.epc_headroom_bytes = row.headroom_bytes},
                             .weights = row.weights};
  EXPECT_EQ(best_fit_raw(row.pod, row.node, context), row.want_raw);
}

INSTANTIATE_TEST_SUITE_P(Rows, BestFitTest, testing::ValuesIn(kRows), testing_support::RowName());

struct ResourceRow {
  std::string_view name;
  std::int64_t pod_request;
  std::int64_t free;
  std::int64_t want;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const ResourceRow& row, std::ostream* os) { *os << row.name; }

const ResourceRow kResourceRows[] = {
    {"Perfect", 256, 256, 1'000'000},                                       // 256/256
    {"Half", 256, 512, 500'000},                                            // 256/512
    {"RoundsDown", 1, 3, 333'333},                                          // 1/3
    {"LargerThanFree", 257, 256, 0},                                        // does not fit
    {"NothingFree", 1, 0, 0},                                               // no hole
    {"NothingRequested", 0, 100, 0},                                        // resource unused
    {"HugeValues", std::int64_t{1} << 61, std::int64_t{1} << 62, 500'000},  // no overflow
};

class BestFitScoreTest : public testing::TestWithParam<ResourceRow> {};

TEST_P(BestFitScoreTest, Row) {
  EXPECT_EQ(best_fit_score(GetParam().pod_request, GetParam().free), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Rows, BestFitScoreTest, testing::ValuesIn(kResourceRows),
                         testing_support::RowName());

// ---------------------------------------------------------------------------------------------
// The properties BestFit exists for.

TEST(BestFitPropertyTest, SmallestLeftoverWinsAcrossNodeSizes) {
  // Pod 256Mi. Small node: 1Gi with 568Mi used → free 456Mi, leftover 200Mi.
  // Big node: 64Gi with 10496Mi free → leftover 10Gi.
  // BestFit raw: small 256/456 · 10^6 = 561403; big 256/10496 · 10^6 = 24390.
  // Normalised: small 10, big 24390 · 10/561403 = 0.43 → 0.
  const NodeRow small = NodeBuilder().epc(kGi, 568 * kMi);
  const NodeRow big = NodeBuilder().epc(64 * kGi, 64 * kGi - 10496 * kMi);
  const ScoreContext context{.accounting = {}, .weights = kEpcOnly};
  const PodRequest p = pod(256 * kMi, 1);
  EXPECT_EQ(best_fit_raw(p, small, context), 561'403);
  EXPECT_EQ(best_fit_raw(p, big, context), 24'390);

  const std::array<const NodeRow*, 2> nodes = {&small, &big};
  std::array<std::int64_t, 2> scores{};
  score_nodes(PolicyKind::kBestFit, p, nodes, context, scores);
  EXPECT_EQ(scores, (std::array<std::int64_t, 2>{10, 0}));

  // MostAllocated compares fractions and prefers the big node:
  // small (568 + 256)·100/1024 = 80; big (65536 − 10240)·100/65536 = 84.
  EXPECT_EQ(most_allocated_raw(p, small, context), 80);
  EXPECT_EQ(most_allocated_raw(p, big, context), 84);
}

TEST(BestFitPropertyTest, MoreLeftoverNeverScoresHigherAtEqualCapacity) {
  // 4Gi nodes, pod 256Mi: as use grows in 64Mi steps the leftover shrinks, so the raw score must
  // strictly grow, with and without the slot dimension (same slot state on every node).
  const PodRequest p = pod(256 * kMi, 1);
  for (const ScoreWeights weights : {kEpcOnly, kBoth}) {
    const ScoreContext context{.accounting = {}, .weights = weights};
    std::int64_t previous = -1;
    for (std::int64_t used = 0; used <= 4 * kGi - 256 * kMi; used += 64 * kMi) {
      const NodeRow node = NodeBuilder().epc(4 * kGi, used).enclave_slots(110, 10);
      const std::int64_t raw = best_fit_raw(p, node, context);
      EXPECT_GT(raw, previous) << "used " << used / kMi << "Mi, slot weight "
                               << weights.enclave_slots;
      previous = raw;
    }
  }
}

TEST(BestFitPropertyTest, TightestNodeGetsTenAmongEqualNodes) {
  // Equal capacities (8Gi) and slot state; leftovers after placing 512Mi:
  // a: 8192 − 1024 − 512 = 6656Mi, b: 8192 − 7168 − 512 = 512Mi (tightest), c: 8192 − 4096 − 512.
  const std::vector<NodeRow> rows = {
      NodeBuilder().epc(8 * kGi, 1024 * kMi).enclave_slots(110, 5),
      NodeBuilder().epc(8 * kGi, 7168 * kMi).enclave_slots(110, 5),
      NodeBuilder().epc(8 * kGi, 4096 * kMi).enclave_slots(110, 5),
  };
  const std::array<const NodeRow*, 3> nodes = {&rows[0], &rows[1], &rows[2]};
  std::array<std::int64_t, 3> scores{};
  score_nodes(PolicyKind::kBestFit, pod(512 * kMi, 1), nodes,
              ScoreContext{.accounting = {}, .weights = kBoth}, scores);
  EXPECT_EQ(scores[1], 10);
  EXPECT_LT(scores[0], scores[2]);  // more leftover, lower score
  EXPECT_LT(scores[2], scores[1]);
}

}  // namespace
}  // namespace epc::core::score
