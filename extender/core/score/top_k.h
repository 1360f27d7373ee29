#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace epc::core::score {

// One candidate of select_top_k: its score, its tie-break rank and its place in the input.
struct RankedCandidate {
  std::int64_t score = 0;
  std::uint64_t rank = 0;
  std::uint32_t position = 0;
};

// The k best candidates, for the one-round-trip filter: kube-scheduler then scores only the nodes
// the extender kept, so the extender's preference is the cut itself.
//
// Order: higher score first; equal scores by tie_break_rank(salt, key), smallest first (the rule
// single_out_top_score uses, so with k = 1 the kept node is the one prioritize would single out).
// Writes the kept positions (indices into `scores`) into `kept` in ascending order, so a reply
// lists them in request order. k == 0 or k >= scores.size() keeps every candidate. `ranked` is
// scratch. O(n) on average (a partial selection, not a sort); no allocation once the vectors have
// grown to the input's size.
//
// scores and keys have the same length (extra entries of the longer one are ignored).
void select_top_k(std::span<const std::int64_t> scores, std::span<const std::uint64_t> keys,
                  std::uint64_t salt, std::size_t k, std::vector<RankedCandidate>& ranked,
                  std::vector<std::uint32_t>& kept);

}  // namespace epc::core::score
