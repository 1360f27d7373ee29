#pragma once

#include <cstdint>
#include <span>

#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/policy.h"

namespace epc::core::score {

// BestFit packs each pod into the tightest hole: the node with the least left over after placement.
//
// Per resource, the raw score is how much of the node's free amount the pod would take:
// Details: free == 0 or request > free ? 0 : request · kBestFitScale / free,
// where free = capacity − used before placement (EPC: capacity − headroom − max(requested, live)).
//
// Why this form: leftover = free − request, so for a given pod the score equals
// kBestFitScale · request / (request + leftover), a strictly decreasing function of the absolute
// leftover. Hence, for one resource, the node with the smallest leftover always has the highest
// raw score whatever the node sizes (a perfect fit scores kBestFitScale), more leftover never
// scores higher, and the score of a node needs no other node. MostAllocated, by contrast, compares
// fractions of capacity: a 64 GiB node with 10 GiB left would beat a 1 GiB node with 200 MiB left.
// The fine 0..10^6 fixed point keeps raw ties rare before normalisation to 0..10.
//
// The EPC and enclave-slot scores are combined by weighted_score (resource_allocation.h). With both
// weights on, a node nearly out of slots also counts as a tight fit; set the enclave-slot weight to
// 0 to pack by EPC alone.
inline constexpr std::int64_t kBestFitScale = 1'000'000;

std::int64_t best_fit_score(std::int64_t pod_request, std::int64_t free);

// Raw score 0..kBestFitScale.
std::int64_t best_fit_raw(const PodRequest& pod, const NodeRow& node, const ScoreContext& context);

// best_fit_raw for every node (null entries score 0) into out[0..nodes.size()); no allocation.
void best_fit_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                   const ScoreContext& context, std::span<std::int64_t> out);

}  // namespace epc::core::score
