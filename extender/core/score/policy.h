#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"

namespace epc::core::score {

// Extender score scale (k8s.io/kube-scheduler/extender/v1): MinExtenderPriority..MaxExtenderPriority.
inline constexpr std::int64_t kMinExtenderScore = 0;
inline constexpr std::int64_t kMaxExtenderScore = 10;
// kube-scheduler's framework scale, used by the kube-parity raw formulas.
inline constexpr std::int64_t kMaxNodeScore = 100;

enum class PolicyKind : std::uint8_t { kLeastAllocated, kMostAllocated, kBestFit };

// Relative weights of the two resources a policy looks at. Each must be in 1..100 (as
// kube-scheduler's scoringStrategy.resources weights); 0 switches that resource off; both 0 is invalid.
struct ScoreWeights {
  std::int64_t epc = 1;
  std::int64_t enclave_slots = 1;
};

struct ScoreContext {
  NodeAccounting accounting;
  ScoreWeights weights;
};

// A raw per-node score: higher is better, never negative. Each policy documents its own scale.
using RawScoreFn = std::int64_t (*)(const PodRequest& pod, const NodeRow& node,
                                    const ScoreContext& context);

// Looks a policy up by its configured name ("LeastAllocated", "MostAllocated", "BestFit").
std::optional<PolicyKind> policy_from_name(std::string_view name);
std::string_view policy_name(PolicyKind kind);
RawScoreFn raw_score_function(PolicyKind kind);

// Scores `nodes` (all of which passed fit) into 0..10 in `out` (same size as nodes):
// raw scores are computed per node, then mapped proportionally onto 0..10 so that the best node gets
// exactly 10 and relative differences are kept (see normalize.h). No allocation.
void score_nodes(PolicyKind kind, const PodRequest& pod, std::span<const NodeRow* const> nodes,
                 const ScoreContext& context, std::span<std::int64_t> out);

}  // namespace epc::core::score
