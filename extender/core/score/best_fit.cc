#include "extender/core/score/best_fit.h"

#include "extender/core/checked_math.h"
#include "extender/core/score/resource_allocation.h"

namespace epc::core::score {
namespace {

// The formulas live here, declared inline so the batch loop below gets them inlined; the public
// functions are thin wrappers for callers and tests.
inline std::int64_t best_fit_score_impl(std::int64_t pod_request, std::int64_t free) {
  if (free <= 0 || pod_request > free) {
    return 0;  // no hole at all (fit would have refused this node): the worst score
  }
  if (pod_request <= 0) {
    return 0;  // the pod does not use the resource (weighted_score skips it anyway)
  }
  return mul_div(pod_request, kBestFitScale, free);
}

inline std::int64_t best_fit_raw_impl(const PodRequest& pod, const NodeRow& node,
                                      const ScoreContext& context) {
  return weighted_score(resource_allocation(pod, node, context), [](const ResourceAllocation& r) {
    return best_fit_score_impl(r.pod_request, r.free_before());
  });
}

}  // namespace

std::int64_t best_fit_score(std::int64_t pod_request, std::int64_t free) {
  return best_fit_score_impl(pod_request, free);
}

std::int64_t best_fit_raw(const PodRequest& pod, const NodeRow& node, const ScoreContext& context) {
  return best_fit_raw_impl(pod, node, context);
}

void best_fit_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                   const ScoreContext& context, std::span<std::int64_t> out) {
  raw_scores(pod, nodes, context, out,
             [](const PodRequest& p, const NodeRow& node, const ScoreContext& c) {
               return best_fit_raw_impl(p, node, c);
             });
}

}  // namespace epc::core::score
