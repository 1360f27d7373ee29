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
  // The batch runs per request over every node that fits, so the pod's side of the formula is
  // worked out once here and the loop below does one division per scored resource. Same results
  // as best_fit_raw_impl (best_fit_batch_test compares them): with each weight at most
  // kFastWeightLimit, a per-resource score (<= kBestFitScale) times its weight, and the sum of
  // two, stay far from int64's end, so weighted_score's saturating steps never clamp; and
  // request · kBestFitScale is checked to fit int64, so mul_div's 128-bit path is never needed.
  constexpr std::int64_t kFastWeightLimit = std::int64_t{1} << 20;
  const ScoreWeights& weights = context.weights;
  std::int64_t epc_numerator = 0;
  std::int64_t slot_numerator = 0;
  const bool fast = weights.epc <= kFastWeightLimit && weights.enclave_slots <= kFastWeightLimit &&
                    !__builtin_mul_overflow(pod.epc_bytes, kBestFitScale, &epc_numerator) &&
                    !__builtin_mul_overflow(pod.enclave_slots, kBestFitScale, &slot_numerator);
  if (!fast) {
    raw_scores(pod, nodes, context, out,
               [](const PodRequest& p, const NodeRow& node, const ScoreContext& c) {
                 return best_fit_raw_impl(p, node, c);
               });
    return;
  }
  // weighted_score's skip rules that depend on the pod only: weight <= 0 or request <= 0.
  const std::int64_t epc_weight = weights.epc > 0 && pod.epc_bytes > 0 ? weights.epc : 0;
  const std::int64_t slot_weight =
      weights.enclave_slots > 0 && pod.enclave_slots > 0 ? weights.enclave_slots : 0;
  const std::int64_t epc_request = pod.epc_bytes;
  const std::int64_t slot_request = pod.enclave_slots;
  const NodeAccounting accounting = context.accounting;
  // best_fit_score_impl for a request > 0 whose product with kBestFitScale is `numerator`.
  const auto score = [](std::int64_t request, std::int64_t numerator, std::int64_t used,
                        std::int64_t capacity) {
    const std::int64_t free =
        used >= capacity ? 0 : saturating_sub(capacity, used);  // ResourceAllocation::free_before
    return free <= 0 || request > free ? 0 : numerator / free;
  };
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NodeRow* const node = nodes[i];
    if (node == nullptr) {
      out[i] = 0;
      continue;
    }
    std::int64_t weighted_sum = 0;
    std::int64_t weight_sum = 0;
    if (epc_weight > 0) {
      const std::int64_t capacity = usable_epc_bytes(*node, accounting);
      if (capacity > 0) {
        weighted_sum +=
            score(epc_request, epc_numerator, epc_used_bytes(*node), capacity) * epc_weight;
        weight_sum += epc_weight;
      }
    }
    if (slot_weight > 0) {
      const std::int64_t capacity = node->enclave_slots_total;
      if (capacity > 0) {
        weighted_sum +=
            score(slot_request, slot_numerator, node->enclave_slots_used, capacity) * slot_weight;
        weight_sum += slot_weight;
      }
    }
    out[i] = weight_sum == 0 ? 0 : weighted_sum / weight_sum;
  }
}

}  // namespace epc::core::score
