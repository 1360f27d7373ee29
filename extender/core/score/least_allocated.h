#pragma once

#include <cstdint>
#include <span>

#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/policy.h"

namespace epc::core::score {

// LeastAllocated spreads pods: it favours the node with the most of each resource left after the
// pod is placed. Same formula as kube-scheduler's NodeResourcesFit LeastAllocated strategy.

// Per resource, on kube's 0..100 scale:
// Details: capacity == 0 ? 0 : requested > capacity ? 0 : (capacity − requested) · 100 / capacity,
// where requested = the node's use + the pod's request (integer division).
std::int64_t least_requested_score(std::int64_t requested, std::int64_t capacity);

// Raw score 0..100: the weighted average of least_requested_score over EPC and enclave slots
// (see weighted_score in resource_allocation.h for which resources count).
std::int64_t least_allocated_raw(const PodRequest& pod, const NodeRow& node,
                                 const ScoreContext& context);

// least_allocated_raw for every node (null entries score 0) into out[0..nodes.size()); no
// allocation.
void least_allocated_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                          const ScoreContext& context, std::span<std::int64_t> out);

}  // namespace epc::core::score
