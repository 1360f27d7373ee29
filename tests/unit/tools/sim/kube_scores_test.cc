#include "tools/sim/kube_scores.h"

#include <array>

#include <gtest/gtest.h>

#include "tools/sim/strategy.h"

namespace epc::tools::sim {
namespace {

// Worked examples in the style of kube-scheduler's own tables: a pod of 3000m CPU and 5000 bytes of
// memory on an idle node of 4000m / 10000 and on one of 6000m / 10000.
TEST(KubeScores, LeastAllocatedWorkedExample) {
  // (4000 − 3000)·100/4000 = 25, (10000 − 5000)·100/10000 = 50 → (25 + 50)/2 = 37.
  EXPECT_EQ(least_allocated_score(
                std::array{ScoredResource{3000, 4000, 1}, ScoredResource{5000, 10000, 1}}),
            37);
  // 50 and 50 → 50.
  EXPECT_EQ(least_allocated_score(
                std::array{ScoredResource{3000, 6000, 1}, ScoredResource{5000, 10000, 1}}),
            50);
}

TEST(KubeScores, MostAllocatedWorkedExample) {
  // 3000·100/4000 = 75, 5000·100/10000 = 50 → 62.
  EXPECT_EQ(most_allocated_score(
                std::array{ScoredResource{3000, 4000, 1}, ScoredResource{5000, 10000, 1}}),
            62);
  // Weights count: (75·3 + 50·1)/4 = 68.
  EXPECT_EQ(most_allocated_score(
                std::array{ScoredResource{3000, 4000, 3}, ScoredResource{5000, 10000, 1}}),
            68);
}

TEST(KubeScores, OverRequestedAndMissingResources) {
  EXPECT_EQ(least_requested_score(5000, 4000), 0);
  EXPECT_EQ(most_requested_score(5000, 4000), 100);  // clamped
  EXPECT_EQ(least_requested_score(1, 0), 0);
  // A resource the node does not have (capacity 0) is left out of the average: only CPU counts.
  EXPECT_EQ(
      most_allocated_score(std::array{ScoredResource{3000, 4000, 1}, ScoredResource{7, 0, 1}}), 75);
  EXPECT_EQ(least_allocated_score(std::array<ScoredResource, 0>{}), 0);
}

TEST(KubeScores, BalancedAllocationWorkedExample) {
  // Fractions 0.75 and 0.5: std = 0.125 → (1 − 0.125)·100 = 87.5 → 87.
  EXPECT_EQ(balanced_allocation_score(
                std::array{ScoredResource{3000, 4000, 1}, ScoredResource{5000, 10000, 1}}),
            87);
  // Equal fractions: perfectly balanced.
  EXPECT_EQ(balanced_allocation_score(
                std::array{ScoredResource{3000, 6000, 1}, ScoredResource{5000, 10000, 1}}),
            100);
  // Fractions are capped at 1: 2.0 → 1, against 0.5 → std 0.25 → 75.
  EXPECT_EQ(balanced_allocation_score(
                std::array{ScoredResource{8000, 4000, 1}, ScoredResource{5000, 10000, 1}}),
            75);
  // Three resources: 0.2, 0.5, 0.8 → mean 0.5, population std sqrt(0.06) = 0.2449 → 75.
  EXPECT_EQ(balanced_allocation_score(std::array{ScoredResource{2, 10, 1}, ScoredResource{5, 10, 1},
                                                 ScoredResource{8, 10, 1}}),
            75);
  // One resource: no spread.
  EXPECT_EQ(balanced_allocation_score(std::array{ScoredResource{2, 10, 1}}), 100);
}

TEST(FeasibleNodesToFind, KubeSchedulerArithmetic) {
  EXPECT_EQ(feasible_nodes_to_find(50, 0), 50U);        // under 100 nodes: all
  EXPECT_EQ(feasible_nodes_to_find(1523, 0), 578U);     // 50 − 1523/125 = 38% of 1523
  EXPECT_EQ(feasible_nodes_to_find(5000, 0), 500U);     // 10%
  EXPECT_EQ(feasible_nodes_to_find(100000, 0), 5000U);  // the 5% floor
  EXPECT_EQ(feasible_nodes_to_find(1000, 1), 100U);     // never fewer than 100
  EXPECT_EQ(feasible_nodes_to_find(1523, 100), 1523U);
  EXPECT_EQ(feasible_nodes_to_find(1000, 50), 500U);
}

}  // namespace
}  // namespace epc::tools::sim
