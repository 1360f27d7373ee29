#include "extender/core/score/most_allocated.h"

#include <algorithm>

#include "extender/core/checked_math.h"
#include "extender/core/score/resource_allocation.h"

namespace epc::core::score {
namespace {

// The formulas live here, declared inline so the batch loop below gets them inlined; the public
// functions are thin wrappers for callers and tests.
inline std::int64_t most_requested_score_impl(std::int64_t requested, std::int64_t capacity) {
  if (capacity <= 0) {
    return 0;
  }
  return mul_div(std::clamp<std::int64_t>(requested, 0, capacity), kMaxNodeScore, capacity);
}

inline std::int64_t most_allocated_raw_impl(const PodRequest& pod, const NodeRow& node,
                                            const ScoreContext& context) {
  return weighted_score(resource_allocation(pod, node, context), [](const ResourceAllocation& r) {
    return most_requested_score_impl(r.requested_after(), r.capacity);
  });
}

}  // namespace

std::int64_t most_requested_score(std::int64_t requested, std::int64_t capacity) {
  return most_requested_score_impl(requested, capacity);
}

std::int64_t most_allocated_raw(const PodRequest& pod, const NodeRow& node,
                                const ScoreContext& context) {
  return most_allocated_raw_impl(pod, node, context);
}

void most_allocated_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                         const ScoreContext& context, std::span<std::int64_t> out) {
  raw_scores(pod, nodes, context, out,
             [](const PodRequest& p, const NodeRow& node, const ScoreContext& c) {
               return most_allocated_raw_impl(p, node, c);
             });
}

}  // namespace epc::core::score
