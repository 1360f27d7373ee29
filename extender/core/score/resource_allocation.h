#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "extender/core/checked_math.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"
#include "extender/core/score/policy.h"

namespace epc::core::score {

// What every policy shares (kube-scheduler's resource_allocation.go): the per-resource numbers of
// one node with the pod placed on it, and the weighted average over resources. Each policy supplies
// only its per-resource formula.

// One resource on one node.
struct ResourceAllocation {
  std::int64_t weight = 0;       // ScoreWeights entry; <= 0 switches the resource off
  std::int64_t pod_request = 0;  // the pod's own demand
  std::int64_t used = 0;      // in use before placement (may exceed capacity when over-committed)
  std::int64_t capacity = 0;  // what pods may use at all

  // kube's "requested": the node's use with this pod added.
  std::int64_t requested_after() const { return saturating_add(used, pod_request); }
  // What is free before placement, never negative.
  std::int64_t free_before() const { return used >= capacity ? 0 : saturating_sub(capacity, used); }
};

inline constexpr std::size_t kScoredResourceCount = 2;
inline constexpr std::size_t kEpcIndex = 0;  // order of resource_allocation()'s entries
inline constexpr std::size_t kEnclaveSlotsIndex = 1;
using ResourceVector = std::array<ResourceAllocation, kScoredResourceCount>;

// The scored resources of `node` for `pod`:
//   EPC:           capacity = epc_capacity − headroom, used = max(requested, live_used if known)
//   enclave slots: capacity = enclave_slots_total,     used = enclave_slots_used
// (Provision slots are checked by fit but not scored: they are rare and rarely contended.)
// Inline: it runs per node per request and is a handful of loads.
inline ResourceVector resource_allocation(const PodRequest& pod, const NodeRow& node,
                                          const ScoreContext& context) {
  return ResourceVector{{
      {.weight = context.weights.epc,
       .pod_request = pod.epc_bytes,
       .used = epc_used_bytes(node),
       .capacity = usable_epc_bytes(node, context.accounting)},
      {.weight = context.weights.enclave_slots,
       .pod_request = pod.enclave_slots,
       .used = node.enclave_slots_used,
       .capacity = node.enclave_slots_total},
  }};
}

// Details: Σ_r weight_r · score(r) / Σ_r weight_r, integer division, over the resources r with
// weight_r > 0, capacity_r > 0 and pod_request_r > 0; 0 when no resource qualifies.
// kube-scheduler skips a resource the node has none of ("Only fill the extended resource entry
// when it's non-zero") and an extended resource the pod does not request
// (calculateResourceAllocatableRequest returns (0, 0) for it); both SGX resources are extended
// resources, so the same rules give parity. `score` returns a non-negative per-resource score.
template <typename PerResourceScore>
inline std::int64_t weighted_score(const ResourceVector& resources, PerResourceScore score) {
  std::int64_t weighted_sum = 0;
  std::int64_t weight_sum = 0;
  for (const ResourceAllocation& resource : resources) {
    if (resource.weight <= 0 || resource.capacity <= 0 || resource.pod_request <= 0) {
      continue;
    }
    // Saturating: weights are validated to 0..100 elsewhere, but nothing here may wrap.
    weighted_sum = saturating_add(weighted_sum, mul_div(score(resource), resource.weight, 1));
    weight_sum = saturating_add(weight_sum, resource.weight);
  }
  if (weight_sum == 0) {
    return 0;
  }
  return weighted_sum / weight_sum;
}

// The per-node loop every policy's batch function runs: raw(pod, node, context) for each node,
// 0 for a null entry; `out` must be at least nodes.size() long. A template so that each policy's
// raw function is inlined into its own loop (one indirect call per request, not per node).
template <typename RawScore>
void raw_scores(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                const ScoreContext& context, std::span<std::int64_t> out, RawScore raw) {
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    out[i] = nodes[i] != nullptr ? raw(pod, *nodes[i], context) : 0;
  }
}

}  // namespace epc::core::score
