#include "tools/sim/fill_protocol.h"

#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/tools/sim/sim_fixtures.h"
#include "tools/sim/scheduler.h"
#include "tools/sim/sim_cluster.h"

namespace epc::tools::sim {
namespace {

using common::Result;

using core::score::PolicyKind;
using testing_support::kGi;
using testing_support::node;
using testing_support::pod;

// Three node types and a mix of six shapes: small enough to run every strategy in milliseconds.
Trace mixed_trace() {
  Trace trace;
  for (int i = 0; i < 8; ++i) {
    trace.nodes.push_back(node("s" + std::to_string(i), 32, 128, 16));
    trace.nodes.push_back(node("m" + std::to_string(i), 64, 256, 32));
  }
  for (int i = 0; i < 4; ++i) {
    trace.nodes.push_back(node("l" + std::to_string(i), 96, 512, 64));
  }
  for (const auto& [cpus, memory, epc] : std::vector<std::array<std::int64_t, 3>>{
           {2, 8, 1}, {4, 16, 3}, {8, 32, 5}, {12, 48, 12}, {16, 64, 20}, {24, 96, 40}}) {
    trace.pods.push_back(pod(cpus, memory, epc, 600));
  }
  return trace;
}

Strategy by_name(const char* name) {
  Result<std::vector<Strategy>> strategies = select_strategies(name, Deployment{});
  EXPECT_TRUE(strategies.ok());
  return strategies->front();
}

TEST(FillProtocol, ArrivalsAreSeededAndSharedByStrategies) {
  const Trace trace = mixed_trace();
  EXPECT_EQ(draw_arrivals(trace, 42, 1.3), draw_arrivals(trace, 42, 1.3));
  EXPECT_NE(draw_arrivals(trace, 42, 1.3), draw_arrivals(trace, 43, 1.3));
  const FillResult a = run_fill(trace, by_name("kube-default"), 42, {});
  const FillResult b = run_fill(trace, by_name("BestFit"), 42, {});
  EXPECT_EQ(a.arrived_pods, b.arrived_pods);
  EXPECT_EQ(a.arrived_epc_bytes, b.arrived_epc_bytes);
}

TEST(FillProtocol, DeterministicForASeed) {
  const Trace trace = mixed_trace();
  for (const char* name : {"kube-default", "BestFit", "FragmentationAware", "BestFit/ideal"}) {
    const FillResult a = run_fill(trace, by_name(name), 7, {});
    const FillResult b = run_fill(trace, by_name(name), 7, {});
    EXPECT_EQ(a.placed_epc_bytes, b.placed_epc_bytes) << name;
    EXPECT_EQ(a.rejected_pods, b.rejected_pods) << name;
    ASSERT_EQ(a.curve.size(), b.curve.size()) << name;
    for (std::size_t i = 0; i < a.curve.size(); ++i) {
      EXPECT_EQ(a.curve[i].placed, b.curve[i].placed) << name;
    }
  }
}

TEST(FillProtocol, ConservesPodsAndNeverOvercommits) {
  const Trace trace = mixed_trace();
  Result<std::vector<Strategy>> all =
      select_strategies("all", Deployment{.percentage_of_nodes_to_score = 0});
  ASSERT_TRUE(all.ok());
  for (const Strategy& strategy : *all) {
    for (const std::uint64_t seed : {1ULL, 2ULL, 3ULL}) {
      const FillResult r = run_fill(trace, strategy, seed, {});
      EXPECT_EQ(r.placed_pods + r.rejected_pods, r.arrived_pods) << strategy.name;
      EXPECT_LE(r.placed_epc_bytes, r.cluster_epc_bytes) << strategy.name;
      EXPECT_GE(static_cast<double>(r.arrived_epc_bytes),
                1.3 * static_cast<double>(r.cluster_epc_bytes))
          << strategy.name;
      EXPECT_TRUE(r.stayed_within_capacity) << strategy.name;
      // The curve never places more than arrived, and placed never shrinks (no departures).
      for (std::size_t i = 0; i < r.curve.size(); ++i) {
        EXPECT_LE(r.curve[i].placed, r.curve[i].arrived + 1e-12) << strategy.name;
        if (i > 0) {
          EXPECT_GE(r.curve[i].placed, r.curve[i - 1].placed) << strategy.name;
        }
      }
      EXPECT_GT(r.first_fitting_rejection, 0.0) << strategy.name;
      EXPECT_LE(r.first_fitting_rejection, 1.3 + 1e-9) << strategy.name;
    }
  }
}

TEST(FillProtocol, OneShapeThatDividesEveryNodePacksPerfectly) {
  // 4 GiB pods on 8 and 16 GiB nodes: any strategy fills every byte, so nothing is unallocated at
  // 100% arrived and the first rejection comes only once the cluster is full.
  Trace trace;
  trace.nodes = {node("a", 64, 256, 8), node("b", 64, 256, 16), node("c", 64, 256, 16)};
  trace.pods = {pod(1, 4, 4)};
  Result<std::vector<Strategy>> all = select_strategies("all", Deployment{});
  ASSERT_TRUE(all.ok());
  for (const Strategy& strategy : *all) {
    const FillResult r = run_fill(trace, strategy, 42, {});
    EXPECT_DOUBLE_EQ(r.unallocated_at_full, 0.0) << strategy.name;
    EXPECT_EQ(r.placed_epc_bytes, 40 * kGi) << strategy.name;
    EXPECT_GT(r.first_fitting_rejection, 1.0) << strategy.name;
  }
}

// Two 10 GiB nodes and pods of 4 and 6 GiB arriving as 4, 4, 6, 6: the optimum (each node 4 + 6)
// places everything. BestFit stacks both 4s on one node (leftover 2) and must reject a 6;
// FragmentationAware sees that a 2 GiB leftover fits none of the mix and spreads them.
TEST(KnownOptimum, FourFourSixSix) {
  std::vector<SimNode> nodes{node("a", 64, 256, 10), node("b", 64, 256, 10)};
  const std::vector<SimPod> sequence{pod(1, 1, 4), pod(1, 1, 4), pod(1, 1, 6), pod(1, 1, 6)};
  const auto placed_gib = [&](PolicyKind kind) {
    SimCluster cluster(nodes);
    Strategy ideal{.name = "ideal", .extender = kind, .ideal = true};
    Scheduler scheduler(ideal, 5);
    for (const SimPod& p : sequence) {
      if (const std::optional<std::size_t> n = scheduler.schedule(cluster, demand_of(p))) {
        cluster.place(*n, demand_of(p));
      }
    }
    return cluster.epc_placed() / kGi;
  };
  EXPECT_EQ(placed_gib(PolicyKind::kFragmentationAware), 20);
  EXPECT_EQ(placed_gib(PolicyKind::kBestFit), 14);

  // Offline best-fit-decreasing reaches the optimum on the same set: 6, 6, 4, 4.
  Trace trace;
  trace.nodes = nodes;
  trace.pods = {pod(1, 1, 4), pod(1, 1, 6)};
  const FillResult bfd = run_best_fit_decreasing(trace, 42);
  // Whatever the draw, BFD leaves at most the smallest shape's worth of a node unused.
  EXPECT_LE(bfd.unallocated_at_full, 4.0 / 20.0);
  EXPECT_EQ(bfd.placed_pods + bfd.rejected_pods, bfd.arrived_pods);
  EXPECT_TRUE(bfd.stayed_within_capacity);
}

}  // namespace
}  // namespace epc::tools::sim
