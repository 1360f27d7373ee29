#include "tools/sim/strategy.h"

#include <algorithm>
#include <array>

namespace epc::tools::sim {
namespace {

constexpr std::size_t kMinFeasibleNodesToFind = 100;
constexpr int kMinFeasibleNodesPercentageToFind = 5;
constexpr int kAdaptiveBasePercentage = 50;
constexpr std::size_t kAdaptiveNodesPerPercent = 125;

constexpr std::array kExtenderPolicies{
    core::score::PolicyKind::kLeastAllocated, core::score::PolicyKind::kMostAllocated,
    core::score::PolicyKind::kBestFit, core::score::PolicyKind::kFragmentationAware,
    core::score::PolicyKind::kStrandingAware};

}  // namespace

std::vector<Strategy> standard_strategies(const Deployment& deployment) {
  const int percentage_of_nodes_to_score = deployment.percentage_of_nodes_to_score;
  using core::score::PolicyKind;
  std::vector<Strategy> out;
  out.push_back(Strategy{.name = "kube-default",
                         .kube_fit = KubeFitScoring::kLeastAllocated,
                         .epc_in_kube = true,
                         .extender = std::nullopt,
                         .percentage_of_nodes_to_score = percentage_of_nodes_to_score});
  out.push_back(Strategy{.name = "kube-most-allocated",
                         .kube_fit = KubeFitScoring::kMostAllocated,
                         .epc_in_kube = true,
                         .extender = std::nullopt,
                         .percentage_of_nodes_to_score = percentage_of_nodes_to_score});
  for (const PolicyKind kind : kExtenderPolicies) {
    out.push_back(Strategy{.name = std::string(core::score::policy_name(kind)),
                           .kube_fit = deployment.extender_profile,
                           .extender = kind,
                           .extender_weight = deployment.extender_weight,
                           .extender_tie_break = deployment.extender_tie_break,
                           .percentage_of_nodes_to_score = percentage_of_nodes_to_score});
  }
  for (const PolicyKind kind : kExtenderPolicies) {
    out.push_back(Strategy{.name = std::string(core::score::policy_name(kind)) + "/ideal",
                           .extender = kind,
                           .extender_weight = deployment.extender_weight,
                           .ideal = true,
                           .percentage_of_nodes_to_score = 100});
  }
  for (const std::size_t k : deployment.top_k) {
    for (const PolicyKind kind : kExtenderPolicies) {
      for (const bool prioritize : {false, true}) {
        std::string name = std::string(core::score::policy_name(kind)) + "/top" + std::to_string(k);
        if (prioritize) {
          name += "+prioritize";
        }
        out.push_back(Strategy{.name = std::move(name),
                               .kube_fit = deployment.extender_profile,
                               .extender = kind,
                               .extender_weight = deployment.extender_weight,
                               .extender_tie_break = deployment.extender_tie_break,
                               .percentage_of_nodes_to_score = percentage_of_nodes_to_score,
                               .filter_top_k = k,
                               .extender_prioritize = prioritize});
      }
    }
  }
  return out;
}

common::Result<std::vector<Strategy>> select_strategies(std::string_view names,
                                                        const Deployment& deployment) {
  std::vector<Strategy> all = standard_strategies(deployment);
  if (names == "all") {
    return all;
  }
  std::vector<Strategy> out;
  while (!names.empty()) {
    const std::size_t comma = names.find(',');
    const std::string_view name = names.substr(0, comma);
    names = comma == std::string_view::npos ? std::string_view{} : names.substr(comma + 1);
    const auto found =
        std::find_if(all.begin(), all.end(), [&](const Strategy& s) { return s.name == name; });
    if (found == all.end()) {
      std::string message = "unknown strategy \"" + std::string(name) + "\" (want all or one of";
      for (const Strategy& s : all) {
        message += ' ' + s.name;
      }
      return common::Error{message + ")"};
    }
    out.push_back(*found);
  }
  if (out.empty()) {
    return common::Error{"no strategy selected"};
  }
  return out;
}

std::size_t feasible_nodes_to_find(std::size_t node_count, int percentage_of_nodes_to_score) {
  if (node_count < kMinFeasibleNodesToFind || percentage_of_nodes_to_score >= 100) {
    return node_count;
  }
  int percentage = percentage_of_nodes_to_score;
  if (percentage <= 0) {
    percentage =
        std::max(kMinFeasibleNodesPercentageToFind,
                 kAdaptiveBasePercentage - static_cast<int>(node_count / kAdaptiveNodesPerPercent));
  }
  const std::size_t count = node_count * static_cast<std::size_t>(percentage) / 100;
  return std::max(count, kMinFeasibleNodesToFind);
}

}  // namespace epc::tools::sim
