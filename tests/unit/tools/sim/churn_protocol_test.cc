#include "tools/sim/churn_protocol.h"

#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/tools/sim/sim_fixtures.h"

namespace epc::tools::sim {
namespace {

using common::Result;

using testing_support::kGi;
using testing_support::node;
using testing_support::pod;

Strategy by_name(const char* name) {
  Result<std::vector<Strategy>> strategies = select_strategies(name, Deployment{});
  EXPECT_TRUE(strategies.ok());
  return strategies->front();
}

ChurnOptions short_run() {
  return ChurnOptions{.arrivals = 2'000, .offered_load = 1.0, .warmup = 0.2, .sample_every = 50};
}

Trace mixed_trace() {
  Trace trace;
  for (int i = 0; i < 6; ++i) {
    trace.nodes.push_back(node("s" + std::to_string(i), 32, 128, 16));
    trace.nodes.push_back(node("l" + std::to_string(i), 96, 512, 64));
  }
  trace.pods = {pod(2, 8, 1, 30),    pod(4, 16, 3, 300),    pod(8, 32, 5, 3000),
                pod(12, 48, 12, 90), pod(16, 64, 20, 1200), pod(24, 96, 40, 40)};
  return trace;
}

TEST(ChurnProtocol, NeedsLifetimes) {
  Trace trace;
  trace.nodes = {node("a", 8, 32, 8)};
  trace.pods = {pod(1, 1, 1)};  // no lifetime
  EXPECT_FALSE(run_churn(trace, by_name("BestFit"), 1, short_run()).ok());
}

TEST(ChurnProtocol, DivisibleShapesAreNeverRejectedAtFullLoad) {
  // 4 GiB pods on 8 GiB nodes: offered load never exceeds capacity, and any placement uses every
  // byte, so no strategy may reject a pod.
  Trace trace;
  trace.nodes = {node("a", 64, 256, 8), node("b", 64, 256, 8), node("c", 64, 256, 8)};
  trace.pods = {pod(1, 1, 4, 10), pod(1, 1, 4, 1000)};
  Result<std::vector<Strategy>> all = select_strategies("all", Deployment{});
  ASSERT_TRUE(all.ok());
  for (const Strategy& strategy : *all) {
    Result<ChurnResult> r = run_churn(trace, strategy, 3, short_run());
    ASSERT_TRUE(r.ok()) << strategy.name;
    EXPECT_EQ(r->rejected_pods, 0) << strategy.name;
    EXPECT_EQ(r->counted_arrivals, 1'600) << strategy.name;  // 2000 minus the 20% warm-up
    EXPECT_TRUE(r->stayed_within_capacity) << strategy.name;
    // Full load: the cluster is nearly always full.
    EXPECT_GT(r->mean_placed, 0.8) << strategy.name;
  }
}

TEST(ChurnProtocol, ConservationAndDeterminism) {
  const Trace trace = mixed_trace();
  Result<std::vector<Strategy>> all =
      select_strategies("all", Deployment{.percentage_of_nodes_to_score = 0});
  ASSERT_TRUE(all.ok());
  for (const Strategy& strategy : *all) {
    Result<ChurnResult> a = run_churn(trace, strategy, 9, short_run());
    Result<ChurnResult> b = run_churn(trace, strategy, 9, short_run());
    ASSERT_TRUE(a.ok() && b.ok()) << strategy.name;
    EXPECT_EQ(a->rejected_pods, b->rejected_pods) << strategy.name;
    EXPECT_EQ(a->rejected_epc_bytes, b->rejected_epc_bytes) << strategy.name;
    EXPECT_LE(a->rejected_pods, a->counted_arrivals) << strategy.name;
    EXPECT_LE(a->rejected_epc_bytes, a->counted_epc_bytes) << strategy.name;
    EXPECT_TRUE(a->stayed_within_capacity) << strategy.name;
    ASSERT_EQ(a->samples.size(), 40U) << strategy.name;
    for (std::size_t i = 1; i < a->samples.size(); ++i) {
      EXPECT_GE(a->samples[i].rejected_pods, a->samples[i - 1].rejected_pods) << strategy.name;
      EXPECT_LE(a->samples[i].placed, 1.0) << strategy.name;
      EXPECT_LE(a->samples[i].largest_placeable_epc, 64 * kGi) << strategy.name;
    }
  }
}

TEST(ChurnProtocol, PreExistingUseStaysAndLoadIsOfferedToTheRest) {
  // The divisible case again, with half of each 8 GiB node held by pods that never leave: 12 GiB
  // free, one 4 GiB pod per node. The load is offered to those 12 GiB, so nothing is rejected and
  // the placed fraction (of the 12 GiB) stays near 1. Were the load offered to the whole 24 GiB,
  // pods would be rejected; were placed a fraction of 24 GiB, it could not pass 0.5.
  Trace trace;
  trace.nodes = {node("a", 64, 256, 8), node("b", 64, 256, 8), node("c", 64, 256, 8)};
  for (SimNode& n : trace.nodes) {
    n.epc_used_bytes = 4 * kGi;
  }
  trace.pods = {pod(1, 1, 4, 10), pod(1, 1, 4, 1000)};
  Result<std::vector<Strategy>> all = select_strategies("all", Deployment{});
  ASSERT_TRUE(all.ok());
  for (const Strategy& strategy : *all) {
    Result<ChurnResult> r = run_churn(trace, strategy, 3, short_run());
    ASSERT_TRUE(r.ok()) << strategy.name;
    EXPECT_EQ(r->rejected_pods, 0) << strategy.name;
    EXPECT_TRUE(r->stayed_within_capacity) << strategy.name;
    EXPECT_GT(r->mean_placed, 0.8) << strategy.name;
    for (const ChurnSample& sample : r->samples) {
      EXPECT_LE(sample.placed, 1.0) << strategy.name;
      EXPECT_LE(sample.largest_placeable_epc, 4 * kGi) << strategy.name;
    }
  }
}

TEST(ChurnProtocol, OverloadRejectsAndLightLoadDoesNot) {
  const Trace trace = mixed_trace();
  ChurnOptions light = short_run();
  light.offered_load = 0.3;
  ChurnOptions heavy = short_run();
  heavy.offered_load = 1.5;
  Result<ChurnResult> at_light = run_churn(trace, by_name("BestFit"), 4, light);
  Result<ChurnResult> at_heavy = run_churn(trace, by_name("BestFit"), 4, heavy);
  ASSERT_TRUE(at_light.ok() && at_heavy.ok());
  EXPECT_EQ(at_light->rejected_pods, 0);
  // At 150% offered, a third of the demand cannot be served whatever the packing.
  EXPECT_GT(static_cast<double>(at_heavy->rejected_epc_bytes),
            0.25 * static_cast<double>(at_heavy->counted_epc_bytes));
}

}  // namespace
}  // namespace epc::tools::sim
