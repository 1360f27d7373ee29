#include "extender/core/score/policy.h"

#include <array>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "extender/core/score/best_fit.h"
#include "extender/core/score/least_allocated.h"
#include "extender/core/score/most_allocated.h"
#include "tests/unit/extender/core/test_rows.h"

namespace epc::core::score {
namespace {

using testing_support::kMi;
using testing_support::NodeBuilder;
using testing_support::pod;

// ---------------------------------------------------------------------------------------------
// Name table

TEST(PolicyNameTest, RoundTrips) {
  for (PolicyKind kind : {PolicyKind::kLeastAllocated, PolicyKind::kMostAllocated,
                          PolicyKind::kBestFit, PolicyKind::kFragmentationAware}) {
    EXPECT_EQ(policy_from_name(policy_name(kind)), kind) << policy_name(kind);
  }
  EXPECT_EQ(policy_from_name("LeastAllocated"), PolicyKind::kLeastAllocated);
  EXPECT_EQ(policy_from_name("MostAllocated"), PolicyKind::kMostAllocated);
  EXPECT_EQ(policy_from_name("BestFit"), PolicyKind::kBestFit);
}

TEST(PolicyNameTest, UnknownNamesAreErrors) {
  EXPECT_FALSE(policy_from_name("bestfit").has_value());  // case-sensitive, as kube is
  EXPECT_FALSE(policy_from_name("").has_value());
  const common::Result<PolicyKind> got = parse_policy_name("Spread");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message,
            "unknown scoring policy \"Spread\" (want one of LeastAllocated MostAllocated BestFit "
            "FragmentationAware StrandingAware)");
  EXPECT_EQ(*parse_policy_name("MostAllocated"), PolicyKind::kMostAllocated);
}

TEST(PolicyNameTest, RawScoreFunctionsAreThePolicies) {
  const NodeRow node = NodeBuilder().epc(1024 * kMi, 512 * kMi).enclave_slots(10, 4);
  const PodRequest p = pod(256 * kMi, 1);
  const ScoreContext context{};
  EXPECT_EQ(raw_score_function(PolicyKind::kLeastAllocated)(p, node, context),
            least_allocated_raw(p, node, context));
  EXPECT_EQ(raw_score_function(PolicyKind::kMostAllocated)(p, node, context),
            most_allocated_raw(p, node, context));
  EXPECT_EQ(raw_score_function(PolicyKind::kBestFit)(p, node, context),
            best_fit_raw(p, node, context));
}

// ---------------------------------------------------------------------------------------------
// Weights (invalid configurations are rows)

struct WeightRow {
  std::string_view name;
  ScoreWeights weights;
  std::string_view error_contains;  // empty = valid
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const WeightRow& row, std::ostream* os) { *os << row.name; }

const WeightRow kWeightRows[] = {
    {"Default", {1, 1}, ""},
    {"EpcOnly", {1, 0}, ""},
    {"SlotsOnly", {0, 1}, ""},
    {"Max", {100, 100}, ""},
    {"BothZero", {0, 0}, "cannot both be 0"},
    {"EpcAboveMax", {101, 1}, "score weight for epc must be between 0 and 100, got 101"},
    {"EpcNegative", {-1, 1}, "score weight for epc must be between 0 and 100, got -1"},
    {"SlotsAboveMax",
     {1, 101},
     "score weight for enclave slots must be between 0 and 100, got 101"},
};

class ValidateWeightsTest : public testing::TestWithParam<WeightRow> {};

TEST_P(ValidateWeightsTest, Row) {
  const WeightRow& row = GetParam();
  const common::Result<ScoreWeights> got = validate_weights(row.weights);
  if (row.error_contains.empty()) {
    ASSERT_TRUE(got.ok()) << got.error().message;
    EXPECT_EQ(got->epc, row.weights.epc);
    EXPECT_EQ(got->enclave_slots, row.weights.enclave_slots);
  } else {
    ASSERT_FALSE(got.ok());
    EXPECT_NE(got.error().message.find(row.error_contains), std::string::npos)
        << got.error().message;
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, ValidateWeightsTest, testing::ValuesIn(kWeightRows),
                         testing_support::RowName());

// ---------------------------------------------------------------------------------------------
// score_nodes end to end: pod 256Mi + 1 slot, default weights, three 1024Mi/10-slot nodes:
//   a: empty;  b: 512Mi and 5 slots used;  c: 768Mi and 9 slots used (an exact fit).

struct ScoreNodesRow {
  std::string_view name;
  PolicyKind kind;
  std::array<std::int64_t, 3> want;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const ScoreNodesRow& row, std::ostream* os) { *os << row.name; }

const ScoreNodesRow kScoreNodesRows[] = {
    // Least: a (75 + 90)/2 = 82; b (25 + 40)/2 = 32; c (0 + 0)/2 = 0.
    // → a 10, b 32·10/82 = 3.9 → 3, c 0.
    {"LeastAllocated", PolicyKind::kLeastAllocated, {10, 3, 0}},
    // Most: a (25 + 10)/2 = 17; b (75 + 60)/2 = 67; c (100 + 100)/2 = 100.
    // → a 17·10/100 = 1, b 6, c 10.
    {"MostAllocated", PolicyKind::kMostAllocated, {1, 6, 10}},
    // BestFit: a (250000 + 100000)/2 = 175000; b (500000 + 200000)/2 = 350000; c 10^6.
    // → a 1, b 3, c 10.
    {"BestFit", PolicyKind::kBestFit, {1, 3, 10}},
};

class ScoreNodesTest : public testing::TestWithParam<ScoreNodesRow> {};

TEST_P(ScoreNodesTest, Row) {
  const std::vector<NodeRow> rows = {
      NodeBuilder().epc(1024 * kMi).enclave_slots(10),
      NodeBuilder().epc(1024 * kMi, 512 * kMi).enclave_slots(10, 5),
      NodeBuilder().epc(1024 * kMi, 768 * kMi).enclave_slots(10, 9),
  };
  const std::array<const NodeRow*, 3> nodes = {&rows[0], &rows[1], &rows[2]};
  std::array<std::int64_t, 3> scores{-1, -1, -1};
  score_nodes(GetParam().kind, pod(256 * kMi, 1), nodes, ScoreContext{}, scores);
  EXPECT_EQ(scores, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Rows, ScoreNodesTest, testing::ValuesIn(kScoreNodesRows),
                         testing_support::RowName());

TEST(ScoreNodesEdgeTest, NullNodeScoresZero) {
  const NodeRow node = NodeBuilder().epc(1024 * kMi).enclave_slots(10);
  const std::array<const NodeRow*, 2> nodes = {nullptr, &node};
  std::array<std::int64_t, 2> scores{-1, -1};
  score_nodes(PolicyKind::kLeastAllocated, pod(256 * kMi, 1), nodes, ScoreContext{}, scores);
  EXPECT_EQ(scores, (std::array<std::int64_t, 2>{0, 10}));
}

TEST(ScoreNodesEdgeTest, MissizedOutputStaysInBounds) {
  const NodeRow node = NodeBuilder().epc(1024 * kMi).enclave_slots(10);
  const std::array<const NodeRow*, 2> nodes = {&node, &node};
  std::array<std::int64_t, 1> shorter{-1};
  score_nodes(PolicyKind::kBestFit, pod(256 * kMi, 1), nodes, ScoreContext{}, shorter);
  EXPECT_EQ(shorter[0], 10);
  std::array<std::int64_t, 3> longer{-1, -1, -1};
  score_nodes(PolicyKind::kBestFit, pod(256 * kMi, 1), nodes, ScoreContext{}, longer);
  EXPECT_EQ(longer, (std::array<std::int64_t, 3>{10, 10, 0}));
}

TEST(ScoreNodesEdgeTest, NoDemandGivesNoPreference) {
  const NodeRow node = NodeBuilder().epc(1024 * kMi).enclave_slots(10);
  const std::array<const NodeRow*, 2> nodes = {&node, &node};
  std::array<std::int64_t, 2> scores{-1, -1};
  score_nodes(PolicyKind::kMostAllocated, pod(0), nodes, ScoreContext{}, scores);
  EXPECT_EQ(scores, (std::array<std::int64_t, 2>{0, 0}));
}

}  // namespace
}  // namespace epc::core::score
