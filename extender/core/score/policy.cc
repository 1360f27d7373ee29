#include "extender/core/score/policy.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>

#include "extender/core/score/best_fit.h"
#include "extender/core/score/fragmentation_aware.h"
#include "extender/core/score/least_allocated.h"
#include "extender/core/score/most_allocated.h"
#include "extender/core/score/normalize.h"
#include "extender/core/score/stranding_aware.h"

namespace epc::core::score {
namespace {

// Scores a batch of nodes with one policy (its raw function inlined into the loop).
using RawScoresFn = void (*)(const PodRequest& pod, std::span<const NodeRow* const> nodes,
                             const ScoreContext& context, std::span<std::int64_t> out);

struct PolicyEntry {
  PolicyKind kind;
  std::string_view name;
  RawScoreFn raw_score;
  RawScoresFn raw_scores;
};

// The policy table: adding a policy means one file pair and one row here.
constexpr std::array<PolicyEntry, 5> kPolicies = {{
    {PolicyKind::kLeastAllocated, "LeastAllocated", &least_allocated_raw, &least_allocated_raws},
    {PolicyKind::kMostAllocated, "MostAllocated", &most_allocated_raw, &most_allocated_raws},
    {PolicyKind::kBestFit, "BestFit", &best_fit_raw, &best_fit_raws},
    {PolicyKind::kFragmentationAware, "FragmentationAware", &fragmentation_aware_raw,
     &fragmentation_aware_raws},
    {PolicyKind::kStrandingAware, "StrandingAware", &stranding_aware_raw, &stranding_aware_raws},
}};

const PolicyEntry* find(PolicyKind kind) {
  for (const PolicyEntry& entry : kPolicies) {
    if (entry.kind == kind) {
      return &entry;
    }
  }
  return nullptr;
}

std::int64_t zero_score(const PodRequest&, const NodeRow&, const ScoreContext&) { return 0; }

common::Error weight_error(std::string_view resource, std::int64_t weight) {
  std::string message = "score weight for ";
  message += resource;
  message += " must be between 0 and 100, got ";
  message += std::to_string(weight);
  return common::Error{std::move(message)};
}

}  // namespace

common::Result<ScoreWeights> validate_weights(ScoreWeights weights) {
  if (weights.epc < 0 || weights.epc > kMaxScoreWeight) {
    return weight_error("epc", weights.epc);
  }
  if (weights.enclave_slots < 0 || weights.enclave_slots > kMaxScoreWeight) {
    return weight_error("enclave slots", weights.enclave_slots);
  }
  if (weights.epc == 0 && weights.enclave_slots == 0) {
    return common::Error{"score weights for epc and enclave slots cannot both be 0"};
  }
  return weights;
}

std::optional<PolicyKind> policy_from_name(std::string_view name) {
  for (const PolicyEntry& entry : kPolicies) {
    if (entry.name == name) {
      return entry.kind;
    }
  }
  return std::nullopt;
}

common::Result<PolicyKind> parse_policy_name(std::string_view name) {
  if (std::optional<PolicyKind> kind = policy_from_name(name)) {
    return *kind;
  }
  std::string message = "unknown scoring policy \"";
  message += name;
  message += "\" (want one of";
  for (const PolicyEntry& entry : kPolicies) {
    message += ' ';
    message += entry.name;
  }
  message += ')';
  return common::Error{std::move(message)};
}

std::string_view policy_name(PolicyKind kind) {
  const PolicyEntry* entry = find(kind);
  return entry != nullptr ? entry->name : std::string_view("Unknown");
}

RawScoreFn raw_score_function(PolicyKind kind) {
  const PolicyEntry* entry = find(kind);
  return entry != nullptr ? entry->raw_score : &zero_score;
}

void raw_scores(PolicyKind kind, const PodRequest& pod, std::span<const NodeRow* const> nodes,
                const ScoreContext& context, std::span<std::int64_t> out) {
  const std::size_t count = nodes.size() < out.size() ? nodes.size() : out.size();
  const std::span<std::int64_t> scored = out.first(count);
  if (const PolicyEntry* entry = find(kind); entry != nullptr) {
    entry->raw_scores(pod, nodes.first(count), context, scored);
  } else {
    std::fill(scored.begin(), scored.end(), 0);
  }
  std::fill(out.begin() + static_cast<std::ptrdiff_t>(count), out.end(), 0);
}

void score_nodes(PolicyKind kind, const PodRequest& pod, std::span<const NodeRow* const> nodes,
                 const ScoreContext& context, std::span<std::int64_t> out) {
  raw_scores(kind, pod, nodes, context, out);
  normalize_scores(out.first(nodes.size() < out.size() ? nodes.size() : out.size()));
}

}  // namespace epc::core::score
