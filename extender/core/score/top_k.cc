#include "extender/core/score/top_k.h"

#include <algorithm>

#include "extender/core/score/top_tie_break.h"

namespace epc::core::score {

void select_top_k(std::span<const std::int64_t> scores, std::span<const std::uint64_t> keys,
                  std::uint64_t salt, std::size_t k, std::vector<RankedCandidate>& ranked,
                  std::vector<std::uint32_t>& kept) {
  const std::size_t count = std::min(scores.size(), keys.size());
  kept.clear();
  if (k == 0 || k >= count) {
    for (std::size_t i = 0; i < count; ++i) {
      kept.push_back(static_cast<std::uint32_t>(i));
    }
    return;
  }
  ranked.clear();
  for (std::size_t i = 0; i < count; ++i) {
    ranked.push_back(RankedCandidate{.score = scores[i],
                                     .rank = tie_break_rank(salt, keys[i]),
                                     .position = static_cast<std::uint32_t>(i)});
  }
  // A strict total order (ranks of distinct keys collide with probability 2^-64; position settles
  // even that), so the cut is the same whatever the selection algorithm does.
  const auto better = [](const RankedCandidate& a, const RankedCandidate& b) {
    if (a.score != b.score) {
      return a.score > b.score;
    }
    if (a.rank != b.rank) {
      return a.rank < b.rank;
    }
    return a.position < b.position;
  };
  const auto cut = ranked.begin() + static_cast<std::ptrdiff_t>(k);
  std::nth_element(ranked.begin(), cut - 1, ranked.end(), better);
  for (auto it = ranked.begin(); it != cut; ++it) {
    kept.push_back(it->position);
  }
  std::sort(kept.begin(), kept.end());
}

}  // namespace epc::core::score
