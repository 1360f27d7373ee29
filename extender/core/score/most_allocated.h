#pragma once

#include <cstdint>
#include <span>

#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/policy.h"

namespace epc::core::score {

// MostAllocated packs pods: it favours the node whose resources are most used after the pod is
// placed. Same formula as kube-scheduler's NodeResourcesFit MostAllocated strategy.

// Per resource, on kube's 0..100 scale:
// Details: capacity == 0 ? 0 : min(requested, capacity) · 100 / capacity,
// where requested = the node's use + the pod's request (integer division). requested can exceed
// capacity when live EPC use is above the node's capacity minus headroom; it is clamped so such a
// node scores 100, not more.
std::int64_t most_requested_score(std::int64_t requested, std::int64_t capacity);

// Raw score 0..100: the weighted average of most_requested_score over EPC and enclave slots
// (see weighted_score in resource_allocation.h for which resources count).
std::int64_t most_allocated_raw(const PodRequest& pod, const NodeRow& node,
                                const ScoreContext& context);

// most_allocated_raw for every node (null entries score 0) into out[0..nodes.size()); no
// allocation.
void most_allocated_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                         const ScoreContext& context, std::span<std::int64_t> out);

}  // namespace epc::core::score
