#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "extender/core/score/policy.h"

namespace epc::tools::sim {

// How NodeResourcesFit scores in the simulated profile.
enum class KubeFitScoring : std::uint8_t {
  kLeastAllocated,  // the default profile: LeastAllocated over cpu and memory, weights 1
  kMostAllocated,   // upstream's bin-packing setup: MostAllocated over cpu, memory (and EPC when
                    // it is an extended resource of the node)
  kDisabled,        // the profile disables NodeResourcesFit and BalancedAllocation scoring
};

// One way of placing pods: a kube-scheduler profile, optionally with our extender.
struct Strategy {
  std::string name;
  KubeFitScoring kube_fit = KubeFitScoring::kLeastAllocated;
  // EPC is advertised on the node as an extended resource and NodeResourcesFit filters (and, with
  // kMostAllocated, scores) it: how kube-scheduler alone can honour EPC at all.
  bool epc_in_kube = false;
  std::optional<core::score::PolicyKind> extender;  // filter + prioritize through the real core
  std::int64_t extender_weight = 1;                 // the extender config's `weight`
  bool ideal = false;  // take the extender policy's own argmax over every feasible node instead
  // The extender singles out one of its top-scored nodes (core::score::single_out_top_score), as
  // epc-extender does; false reproduces the extender before that change (kube's scores break ties).
  bool extender_tie_break = true;
  // kube-scheduler's percentageOfNodesToScore; 0 = its adaptive default, 100 = every node.
  int percentage_of_nodes_to_score = 100;
  // The one-round-trip filter (epc-extender's scheduling.filter_top_k): the extender's filter keeps
  // only the k best nodes by its policy's raw score (core::score::select_top_k). 0 = off.
  std::size_t filter_top_k = 0;
  // kube-scheduler calls the extender's prioritize verb (false: filter only, kube's own scores
  // choose among the nodes the filter kept).
  bool extender_prioritize = true;
};

// How the cluster is set up around the strategies: kube-scheduler's sampling for all of them, and
// for the extender ones its weight, the profile it runs beside and whether it singles out its top.
struct Deployment {
  std::int64_t extender_weight = 5;
  int percentage_of_nodes_to_score = 100;
  KubeFitScoring extender_profile = KubeFitScoring::kLeastAllocated;
  bool extender_tie_break = true;
  // One-round-trip variants to add, one k each (epc-sim --top-k).
  std::vector<std::size_t> top_k{};
};

// The strategies the study compares:
//   kube-default, kube-most-allocated, LeastAllocated, MostAllocated, BestFit, FragmentationAware,
// each extender policy with "/ideal" appended (its own argmax), and per k in deployment.top_k each
// policy with "/topK" (filter keeps k nodes, no prioritize verb) and "/topK+prioritize" (the same
// filter, then prioritize at the deployment's weight).
std::vector<Strategy> standard_strategies(const Deployment& deployment);

// Picks strategies by comma-separated names from standard_strategies ("all" = every one).
common::Result<std::vector<Strategy>> select_strategies(std::string_view names,
                                                        const Deployment& deployment);

// kube-scheduler's numFeasibleNodesToFind: how many feasible nodes it collects before it stops
// filtering (all when fewer than 100 nodes; adaptive percentage max(5, 50 − n/125) when 0).
std::size_t feasible_nodes_to_find(std::size_t node_count, int percentage_of_nodes_to_score);

}  // namespace epc::tools::sim
