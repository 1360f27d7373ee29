#pragma once

#include <cstdint>
#include <span>

namespace epc::core::score {

// Leaves exactly one candidate at the top of the 0..10 scale.
//
// Why: kube-scheduler adds our score × weight × 10 to its own plugins' scores and breaks ties among
// equal totals at random. When several candidates share our best score (identical empty nodes, or
// nodes whose free EPC is equal), the extender cannot separate them and kube-scheduler's own
// resource scores decide instead; in the default profile that is LeastAllocated over CPU and
// memory, which always takes the node with the most CPU and memory free, and so drains one node
// type first. The bin-packing study measured that systematic choice leaving 0.4 percentage points
// more EPC unallocated than a random choice among the same nodes (docs/bin-packing.md). So the
// extender makes the random choice itself: among the candidates with the highest score, the one
// with the smallest hash of (salt, key) keeps it and the others drop by one. A stable salt per pod
// (its UID) gives the same answer when a pod is retried.
//
// scores and keys have the same length; keys identify the nodes (stable within the process).
// Scores <= 0 are left alone: with no preference there is nothing to single out.
void single_out_top_score(std::span<std::int64_t> scores, std::span<const std::uint64_t> keys,
                          std::uint64_t salt);

// The rank of a key among tied candidates for one salt: the smallest value wins a tie. The one rule
// for every tie the extender breaks (single_out_top_score above, select_top_k in top_k.h).
std::uint64_t tie_break_rank(std::uint64_t salt, std::uint64_t key);

// A 64-bit mix of a string (FNV-1a, then a final avalanche), for salts from pod UIDs and keys from
// node names.
std::uint64_t stable_hash(std::span<const char> text);

}  // namespace epc::core::score
