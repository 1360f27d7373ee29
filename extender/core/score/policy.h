#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/result.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"

namespace epc::core::score {

// Extender score scale (k8s.io/kube-scheduler/extender/v1):
// MinExtenderPriority..MaxExtenderPriority.
inline constexpr std::int64_t kMinExtenderScore = 0;
inline constexpr std::int64_t kMaxExtenderScore = 10;
// kube-scheduler's framework scale, used by the kube-parity raw formulas.
inline constexpr std::int64_t kMaxNodeScore = 100;

enum class PolicyKind : std::uint8_t {
  kLeastAllocated,
  kMostAllocated,
  kBestFit,
  kFragmentationAware,
  kStrandingAware,
};

// Relative weights of the two resources a policy looks at. Each must be in 1..100 (as
// kube-scheduler's scoringStrategy.resources weights); 0 switches that resource off; both 0 is
// invalid.
struct ScoreWeights {
  std::int64_t epc = 1;
  std::int64_t enclave_slots = 1;
};

// Checks the ranges above: each weight in 0..100 and not both 0. Returns the weights unchanged.
common::Result<ScoreWeights> validate_weights(ScoreWeights weights);
inline constexpr std::int64_t kMaxScoreWeight = 100;

class MixDistribution;  // fragmentation_aware.h

struct ScoreContext {
  NodeAccounting accounting;
  ScoreWeights weights;
  // The recent pod mix, read by FragmentationAware only; null = the pod alone is the mix.
  const MixDistribution* mix = nullptr;
};

// A raw per-node score: higher is better, never negative. Each policy documents its own scale.
using RawScoreFn = std::int64_t (*)(const PodRequest& pod, const NodeRow& node,
                                    const ScoreContext& context);

// Looks a policy up by its configured name ("LeastAllocated", "MostAllocated", "BestFit",
// "FragmentationAware", "StrandingAware").
std::optional<PolicyKind> policy_from_name(std::string_view name);
// The same, with an error naming the accepted names for config validation. Names are
// case-sensitive, as kube-scheduler's scoring strategy types are.
common::Result<PolicyKind> parse_policy_name(std::string_view name);
std::string_view policy_name(PolicyKind kind);
RawScoreFn raw_score_function(PolicyKind kind);

// Scores `nodes` (all of which passed fit) into 0..10 in `out` (same size as nodes):
// raw scores are computed per node, then mapped proportionally onto 0..10 so that the best node
// gets exactly 10 and relative differences are kept (see normalize.h). No allocation. A null entry
// in `nodes` scores 0; if `out` is shorter than `nodes`, only out.size() nodes are scored, and
// extra `out` entries are set to 0 (the caller's sizing bug must not read or write out of bounds).
// Inputs are not validated (config validation is elsewhere) but nothing divides by 0.
void score_nodes(PolicyKind kind, const PodRequest& pod, std::span<const NodeRow* const> nodes,
                 const ScoreContext& context, std::span<std::int64_t> out);

// The policy's raw scores of `nodes` (all of which passed fit) into `out` (same size; extra `out`
// entries are set to 0), not normalised: the finest order the policy knows, for ranking (top_k.h).
void raw_scores(PolicyKind kind, const PodRequest& pod, std::span<const NodeRow* const> nodes,
                const ScoreContext& context, std::span<std::int64_t> out);

}  // namespace epc::core::score
