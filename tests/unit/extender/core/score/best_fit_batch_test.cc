// The batch scorers (best_fit_raws, normalize_scores) have fast paths that work the pod's side out
// once per request; they must give exactly the per-node functions' results. Compared here on
// deterministic pseudo-random rows that cover the edge cases (no capacity, full, over-committed,
// live use above requests, negative or absurd reported numbers, zero or huge weights and requests).
#include <cstdint>
#include <vector>

#include <gtest/gtest.h>

#include "extender/core/score/best_fit.h"
#include "extender/core/score/normalize.h"

namespace epc::core::score {
namespace {

constexpr std::int64_t kMax = INT64_MAX;

class Random {
 public:
  std::uint64_t next() {
    state_ = state_ * 6364136223846793005ull + 1442695040888963407ull;
    return state_ >> 17;
  }
  // One of `values`, or (one time in four) a random number below `limit`.
  std::int64_t pick(const std::vector<std::int64_t>& values, std::int64_t limit) {
    if (next() % 4 == 0) {
      return static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(limit));
    }
    return values[next() % values.size()];
  }

 private:
  std::uint64_t state_ = 0x853c49e6748fea9bull;
};

const std::vector<std::int64_t> kAmounts = {0,
                                            1,
                                            2,
                                            3,
                                            10,
                                            110,
                                            std::int64_t{1} << 26,
                                            std::int64_t{1} << 30,
                                            (std::int64_t{1} << 30) + 7,
                                            kMax / 1'000'000,
                                            kMax / 1'000'000 + 1,
                                            kMax,
                                            -1,
                                            -(std::int64_t{1} << 30)};
const std::vector<std::int64_t> kWeights = {
    0, 1, 2, 7, 100, std::int64_t{1} << 20, (std::int64_t{1} << 20) + 1, kMax, -1};

NodeRow random_row(Random& random) {
  NodeRow row;
  row.ever_reported = true;
  row.has_sgx = true;
  row.epc_capacity_bytes = random.pick(kAmounts, std::int64_t{1} << 34);
  row.epc_requested_bytes = random.pick(kAmounts, std::int64_t{1} << 34);
  row.live_used_known = random.next() % 2 == 0;
  row.epc_live_used_bytes = random.pick(kAmounts, std::int64_t{1} << 34);
  row.enclave_slots_total = random.pick(kAmounts, 200);
  row.enclave_slots_used = random.pick(kAmounts, 200);
  return row;
}

TEST(BestFitBatchTest, BatchEqualsPerNodeRawScores) {
  Random random;
  for (int round = 0; round < 2000; ++round) {
    const PodRequest pod{.epc_bytes = random.pick(kAmounts, std::int64_t{1} << 34),
                         .enclave_slots = random.pick(kAmounts, 8),
                         .provision_slots = 0};
    ScoreContext context;
    context.accounting.epc_headroom_bytes = random.pick(kAmounts, std::int64_t{1} << 28);
    context.weights = {.epc = random.pick(kWeights, 200),
                       .enclave_slots = random.pick(kWeights, 200)};
    std::vector<NodeRow> rows;
    for (int i = 0; i < 16; ++i) {
      rows.push_back(random_row(random));
    }
    std::vector<const NodeRow*> nodes;
    for (const NodeRow& row : rows) {
      nodes.push_back(&row);
    }
    nodes.push_back(nullptr);  // a null entry scores 0
    std::vector<std::int64_t> batch(nodes.size(), -1);
    best_fit_raws(pod, nodes, context, batch);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const std::int64_t want = nodes[i] != nullptr ? best_fit_raw(pod, *nodes[i], context) : 0;
      ASSERT_EQ(batch[i], want) << "round " << round << " node " << i;
    }
  }
}

TEST(BestFitBatchTest, NormalizeScoresEqualsNormalizeScore) {
  Random random;
  const std::vector<std::int64_t> raws = {
      0, 1, 9, 10, 11, 999'999, 1'000'000, kMax / 10, kMax / 10 + 1, kMax, -5};
  for (int round = 0; round < 2000; ++round) {
    std::vector<std::int64_t> scores;
    for (int i = 0; i < 8; ++i) {
      scores.push_back(random.pick(raws, 2'000'000));
    }
    std::int64_t max_raw = 0;
    for (const std::int64_t raw : scores) {
      max_raw = raw > max_raw ? raw : max_raw;
    }
    std::vector<std::int64_t> want;
    for (const std::int64_t raw : scores) {
      want.push_back(normalize_score(raw, max_raw));
    }
    normalize_scores(scores);
    ASSERT_EQ(scores, want) << "round " << round;
  }
}

}  // namespace
}  // namespace epc::core::score
