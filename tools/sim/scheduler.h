#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <vector>

#include "extender/core/node_row.h"
#include "extender/core/pod_mix.h"
#include "extender/core/score/top_k.h"
#include "tools/sim/sim_cluster.h"
#include "tools/sim/strategy.h"

namespace epc::tools::sim {

// One scheduling attempt as kube-scheduler runs it with this strategy:
//  1. in-tree filters (NodeResourcesFit) from a rotating start index until
//     feasible_nodes_to_find() feasible nodes are found (percentageOfNodesToScore);
//  2. the extender's filter: core::fit, the same code the extender's /filter runs, and in the
//     one-round-trip mode its cut to the k best nodes (core::score::select_top_k);
//  3. with one node left it is chosen unscored (as kube-scheduler does); otherwise
//     total = NodeResourcesFit score + BalancedAllocation score (weights 1)
//           + extender score (core::score::score_nodes, 0..10) × weight × 10,
//     highest total wins, ties broken at random (reservoir sampling, like selectHost). The
//     extender singles out one of its top-scored nodes first, as epc-extender does. Without the
//     prioritize verb the extender's score is 0 on every node.
// Ideal mode skips kube-scheduler entirely: every node that passes both filters is a candidate and
// the extender policy's raw score decides (ties at random).
class Scheduler {
 public:
  // `seed` is the run's seed; the scheduler derives its own tie-break stream from it, apart from
  // the protocols' arrival stream.
  Scheduler(Strategy strategy, std::uint64_t seed);

  // The chosen node, or nullopt when no node can take the pod. Does not place it.
  std::optional<std::size_t> schedule(const SimCluster& cluster, const PodDemand& pod);

  const Strategy& strategy() const { return strategy_; }

 private:
  std::optional<std::size_t> pick_ideal(const SimCluster& cluster, const PodDemand& pod);
  std::optional<std::size_t> pick_by_total(const SimCluster& cluster, const PodDemand& pod);

  Strategy strategy_;
  std::mt19937_64 rng_;
  core::PodMix mix_;
  std::size_t next_start_ = 0;
  // Scratch reused across attempts: no allocation per pod once warm.
  std::vector<std::size_t> candidates_;
  std::vector<const core::NodeRow*> candidate_rows_;
  std::vector<std::int64_t> extender_scores_;
  std::vector<std::uint64_t> candidate_keys_;
  std::vector<core::score::RankedCandidate> ranked_;
  std::vector<std::uint32_t> kept_;
};

}  // namespace epc::tools::sim
