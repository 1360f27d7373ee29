#pragma once

#include <cstdint>
#include <span>

namespace epc::tools::sim {

// kube-scheduler's in-tree resource scores on its 0..100 scale (pkg/scheduler/framework/plugins/
// noderesources), reimplemented from the documented formulas so the simulator ranks nodes as the
// real default profile does.

inline constexpr std::int64_t kMaxNodeScore = 100;
// The non-zero defaults NodeResourcesFit's scoring substitutes for a pod that requests no CPU or
// memory (schedutil.DefaultMilliCPURequest / DefaultMemoryRequest).
inline constexpr std::int64_t kDefaultMilliCpuRequest = 100;
inline constexpr std::int64_t kDefaultMemoryRequestBytes = 200LL * 1024 * 1024;

// One scored resource on one node: `requested` includes the pod being scored.
struct ScoredResource {
  std::int64_t requested = 0;
  std::int64_t capacity = 0;
  std::int64_t weight = 1;
};

// LeastAllocated per resource: capacity == 0 or requested > capacity ? 0
//                              : (capacity − requested) · 100 / capacity.
std::int64_t least_requested_score(std::int64_t requested, std::int64_t capacity);
// MostAllocated per resource: capacity == 0 ? 0 : min(requested, capacity) · 100 / capacity.
std::int64_t most_requested_score(std::int64_t requested, std::int64_t capacity);

// NodeResourcesFit's weighted average Σ w·score / Σ w over resources with capacity > 0 (a node
// without an extended resource has no entry for it, so kube skips it). 0 when none qualifies.
std::int64_t least_allocated_score(std::span<const ScoredResource> resources);
std::int64_t most_allocated_score(std::span<const ScoredResource> resources);

// NodeResourcesBalancedAllocation: fractions requested/capacity (capped at 1) over resources with
// capacity > 0; std = |f1 − f2| / 2 for two, the population standard deviation for more, 0 for
// fewer; score = int64((1 − std) · 100).
std::int64_t balanced_allocation_score(std::span<const ScoredResource> resources);

}  // namespace epc::tools::sim
