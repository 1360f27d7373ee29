#include "extender/core/score/stranding_aware.h"

#include <algorithm>
#include <cmath>

#include "extender/core/checked_math.h"
#include "extender/core/score/best_fit.h"
#include "extender/core/score/resource_allocation.h"

namespace epc::core::score {
namespace {

// free / capacity clamped to 0..1: requests above allocatable (pods the API bound before a
// resize) leave nothing free rather than a negative share.
inline double free_share(std::int64_t capacity, std::int64_t used) {
  if (capacity <= 0 || used >= capacity) {
    return 0.0;
  }
  return static_cast<double>(saturating_sub(capacity, std::max<std::int64_t>(used, 0))) /
         static_cast<double>(capacity);
}

inline double stranded(double epc, double cpu, double memory) {
  return std::max(0.0, epc - std::min(cpu, memory));
}

inline bool knows_cpu_memory(const NodeRow& node) {
  return node.cpu_memory_known && node.cpu_allocatable_milli > 0 &&
         node.memory_allocatable_bytes > 0;
}

inline std::int64_t raw_impl(const PodRequest& pod, const NodeRow& node,
                             const ScoreContext& context) {
  const std::int64_t capacity = usable_epc_bytes(node, context.accounting);
  if (!knows_cpu_memory(node) || pod.epc_bytes <= 0 || capacity <= 0) {
    return best_fit_raw(pod, node, context);
  }
  const std::int64_t used = epc_used_bytes(node);
  const std::int64_t free = free_epc_bytes(node, context.accounting);
  const double before = stranded(
      free_share(capacity, used), free_share(node.cpu_allocatable_milli, node.cpu_requested_milli),
      free_share(node.memory_allocatable_bytes, node.memory_requested_bytes));
  const double after =
      stranded(free_share(capacity, saturating_add(used, pod.epc_bytes)),
               free_share(node.cpu_allocatable_milli,
                          saturating_add(node.cpu_requested_milli, pod.cpu_milli)),
               free_share(node.memory_allocatable_bytes,
                          saturating_add(node.memory_requested_bytes, pod.memory_bytes)));
  const double fit =
      static_cast<double>(best_fit_score(pod.epc_bytes, free)) / static_cast<double>(kBestFitScale);
  const double score = std::clamp((2.0 + fit - (after - before)) / 4.0, 0.0, 1.0);
  return static_cast<std::int64_t>(std::lround(score * static_cast<double>(kBestFitScale)));
}

}  // namespace

std::int64_t stranding_aware_raw(const PodRequest& pod, const NodeRow& node,
                                 const ScoreContext& context) {
  return raw_impl(pod, node, context);
}

double stranded_share(const NodeRow& node, const NodeAccounting& accounting) {
  if (!knows_cpu_memory(node)) {
    return 0.0;
  }
  return stranded(free_share(usable_epc_bytes(node, accounting), epc_used_bytes(node)),
                  free_share(node.cpu_allocatable_milli, node.cpu_requested_milli),
                  free_share(node.memory_allocatable_bytes, node.memory_requested_bytes));
}

void stranding_aware_raws(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                          const ScoreContext& context, std::span<std::int64_t> out) {
  raw_scores(pod, nodes, context, out,
             [](const PodRequest& p, const NodeRow& node, const ScoreContext& c) {
               return raw_impl(p, node, c);
             });
}

}  // namespace epc::core::score
