#include "extender/core/score/top_k.h"

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <set>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/core/score/top_tie_break.h"

namespace epc::core::score {
namespace {

using ::testing::ElementsAre;

std::vector<std::uint32_t> top_k(const std::vector<std::int64_t>& scores,
                                 const std::vector<std::uint64_t>& keys, std::uint64_t salt,
                                 std::size_t k) {
  std::vector<RankedCandidate> ranked;
  std::vector<std::uint32_t> kept;
  select_top_k(scores, keys, salt, k, ranked, kept);
  return kept;
}

std::vector<std::uint64_t> keys_of(std::size_t n) {
  std::vector<std::uint64_t> keys(n);
  std::iota(keys.begin(), keys.end(), 1000);
  return keys;
}

// The reference: sort everything by (score desc, rank asc), take k, return positions ascending.
std::vector<std::uint32_t> by_full_sort(const std::vector<std::int64_t>& scores,
                                        const std::vector<std::uint64_t>& keys, std::uint64_t salt,
                                        std::size_t k) {
  std::vector<std::uint32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0U);
  std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (scores[a] != scores[b]) {
      return scores[a] > scores[b];
    }
    return tie_break_rank(salt, keys[a]) < tie_break_rank(salt, keys[b]);
  });
  order.resize(std::min(k == 0 ? order.size() : k, order.size()));
  std::sort(order.begin(), order.end());
  return order;
}

TEST(SelectTopK, KeepsTheHighestScoresInInputOrder) {
  const std::vector<std::int64_t> scores{5, 90, 7, 80, 60, 1};
  EXPECT_THAT(top_k(scores, keys_of(6), 1, 3), ElementsAre(1, 3, 4));
  EXPECT_THAT(top_k(scores, keys_of(6), 1, 1), ElementsAre(1));
}

TEST(SelectTopK, ZeroOrAtLeastTheCountKeepsEveryCandidate) {
  const std::vector<std::int64_t> scores{3, 1, 2};
  EXPECT_THAT(top_k(scores, keys_of(3), 9, 0), ElementsAre(0, 1, 2));
  EXPECT_THAT(top_k(scores, keys_of(3), 9, 3), ElementsAre(0, 1, 2));
  EXPECT_THAT(top_k(scores, keys_of(3), 9, 50), ElementsAre(0, 1, 2));
  EXPECT_TRUE(top_k({}, {}, 9, 2).empty());
}

TEST(SelectTopK, TiesAtTheCutGoToTheSmallestRankForThisSalt) {
  // Two clear winners, then four tied for the last two places.
  const std::vector<std::int64_t> scores{50, 9, 9, 100, 9, 9};
  const std::vector<std::uint64_t> keys = keys_of(6);
  for (std::uint64_t salt = 0; salt < 50; ++salt) {
    const std::vector<std::uint32_t> kept = top_k(scores, keys, salt, 4);
    std::vector<std::uint32_t> tied{1, 2, 4, 5};
    std::sort(tied.begin(), tied.end(), [&](std::uint32_t a, std::uint32_t b) {
      return tie_break_rank(salt, keys[a]) < tie_break_rank(salt, keys[b]);
    });
    std::vector<std::uint32_t> expected{0, 3, tied[0], tied[1]};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(kept, expected) << "salt " << salt;
  }
}

TEST(SelectTopK, SameSaltSameCutAndSaltsSpreadTheTiedPlaces) {
  const std::vector<std::int64_t> scores(8, 7);
  const std::vector<std::uint64_t> keys = keys_of(8);
  EXPECT_EQ(top_k(scores, keys, 42, 3), top_k(scores, keys, 42, 3));
  std::set<std::uint32_t> chosen;
  for (std::uint64_t salt = 0; salt < 400; ++salt) {
    for (const std::uint32_t i : top_k(scores, keys, salt, 2)) {
      chosen.insert(i);
    }
  }
  EXPECT_EQ(chosen.size(), 8U);  // every tied node is kept for some pod
}

TEST(SelectTopK, KOfOneKeepsTheNodeSingleOutLeavesAtTheTop) {
  // The one-round-trip filter with k = 1 and prioritize's single-out agree on the node.
  std::mt19937_64 random(7);
  for (int round = 0; round < 200; ++round) {
    std::vector<std::int64_t> scores(12);
    for (std::int64_t& s : scores) {
      s = static_cast<std::int64_t>(random() % 3) + 8;  // many ties at the top
    }
    const std::vector<std::uint64_t> keys = keys_of(scores.size());
    const std::uint64_t salt = random();
    const std::vector<std::uint32_t> kept = top_k(scores, keys, salt, 1);
    ASSERT_EQ(kept.size(), 1U);
    std::vector<std::int64_t> singled = scores;
    single_out_top_score(singled, keys, salt);
    const auto top = std::max_element(singled.begin(), singled.end());
    EXPECT_EQ(static_cast<std::uint32_t>(top - singled.begin()), kept[0]) << "round " << round;
  }
}

TEST(SelectTopK, EqualsAFullSortOnRandomInputs) {
  std::mt19937_64 random(2026);
  std::vector<RankedCandidate> ranked;
  std::vector<std::uint32_t> kept;
  for (int round = 0; round < 2000; ++round) {
    const std::size_t n = random() % 60;
    std::vector<std::int64_t> scores(n);
    const std::int64_t spread = 1 + static_cast<std::int64_t>(random() % 20);  // ties galore
    for (std::int64_t& s : scores) {
      s = static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(spread));
    }
    std::vector<std::uint64_t> keys(n);
    for (std::uint64_t& key : keys) {
      key = random();
    }
    const std::uint64_t salt = random();
    const std::size_t k = random() % 12;
    // Scratch reused across rounds, as a connection reuses it across requests.
    select_top_k(scores, keys, salt, k, ranked, kept);
    EXPECT_EQ(kept, by_full_sort(scores, keys, salt, k)) << "round " << round;
  }
}

}  // namespace
}  // namespace epc::core::score
