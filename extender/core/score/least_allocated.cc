#include "extender/core/score/least_allocated.h"

#include "extender/core/checked_math.h"
#include "extender/core/score/resource_allocation.h"

namespace epc::core::score {
namespace {

// The formulas live here, declared inline so the batch loop below gets them inlined; the public
// functions are thin wrappers for callers and tests.
inline std::int64_t least_requested_score_impl(std::int64_t requested, std::int64_t capacity) {
  if (capacity <= 0) {
    return 0;  // nothing to spread into (weighted_score skips such resources anyway)
  }
  if (requested > capacity) {
    return 0;  // over-committed (live use above capacity, or a pod larger than the node)
  }
  // 128-bit intermediate: (capacity − requested) · 100 overflows int64 for capacities near 2^63,
  // where kube's int64 product would wrap; below that the result is identical.
  return mul_div(capacity - requested, kMaxNodeScore, capacity);
}

inline std::int64_t least_allocated_raw_impl(const PodRequest& pod, const NodeRow& node,
                                             const ScoreContext& context) {
  return weighted_score(resource_allocation(pod, node, context), [](const ResourceAllocation& r) {
    return least_requested_score_impl(r.requested_after(), r.capacity);
  });
}

}  // namespace

std::int64_t least_requested_score(std::int64_t requested, std::int64_t capacity) {
  return least_requested_score_impl(requested, capacity);
}

std::int64_t least_allocated_raw(const PodRequest& pod, const NodeRow& node,
                                 const ScoreContext& context) {
  return least_allocated_raw_impl(pod, node, context);
}

void least_allocated_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                          const ScoreContext& context, std::span<std::int64_t> out) {
  raw_scores(pod, nodes, context, out,
             [](const PodRequest& p, const NodeRow& node, const ScoreContext& c) {
               return least_allocated_raw_impl(p, node, c);
             });
}

}  // namespace epc::core::score
