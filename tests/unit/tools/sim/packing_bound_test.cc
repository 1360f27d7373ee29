#include "tools/sim/packing_bound.h"

#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/tools/sim/sim_fixtures.h"
#include "tools/sim/fill_protocol.h"
#include "tools/sim/strategy.h"

namespace epc::tools::sim {
namespace {

using common::Result;

using testing_support::kGi;
using testing_support::node;
using testing_support::pod;
using testing_support::with_use;

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;

// Every pod of `trace.pods` arrives once.
std::vector<std::size_t> each_once(const Trace& trace) {
  std::vector<std::size_t> arrivals(trace.pods.size());
  std::iota(arrivals.begin(), arrivals.end(), std::size_t{0});
  return arrivals;
}

std::vector<SimNode> copies(const SimNode& n, int count) { return std::vector<SimNode>(count, n); }
std::vector<SimPod> copies(const SimPod& p, int count) { return std::vector<SimPod>(count, p); }

SimNode with_max_pods(SimNode n, std::int64_t max_pods) {
  n.max_pods = max_pods;
  return n;
}

// ---------------------------------------------------------------------------------------------
// The LP's optimum on cases small enough to solve by hand.

struct BoundCase {
  std::string name;
  std::vector<SimNode> nodes;
  std::vector<SimPod> pods;  // each arrives once
  bool cap_per_node_count = true;
  double placeable_gib = 0.0;
  std::int64_t columns = 0;
};

std::vector<BoundCase> bound_cases() {
  const SimNode ten = node("ten", 64, 256, 10);  // 10 GiB of EPC, CPU and memory plenty
  return {
      // One shape (n = 3), one type (N = 2). Relaxation: x ≤ 3 and 6x ≤ 20 → x = 3, 18 GiB,
      // though no 10 GiB node holds two 6 GiB pods (the true optimum is 12).
      {"three_6_on_two_10_relaxed", copies(ten, 2), copies(pod(1, 1, 6), 3), false, 18.0, 1},
      // The cap: one node holds ⌊10/6⌋ = 1 pod, so x ≤ 2·1 → 12 GiB, the true optimum.
      {"three_6_on_two_10_capped", copies(ten, 2), copies(pod(1, 1, 6), 3), true, 12.0, 1},
      // n = 4: the relaxation splits pods, x = 20/6 = 3.33 → all 20 GiB "placeable"; capped, 12.
      {"four_6_on_two_10_relaxed", copies(ten, 2), copies(pod(1, 1, 6), 4), false, 20.0, 1},
      {"four_6_on_two_10_capped", copies(ten, 2), copies(pod(1, 1, 6), 4), true, 12.0, 1},
      // 4, 4, 6, 6 on two 10s: 2·4 + 2·6 = 20 ≤ 20, caps 4 (⌊10/4⌋·2) and 2: all 20 GiB, as
      // placing 4 + 6 on each node does.
      {"four_four_six_six",
       copies(ten, 2),
       {pod(1, 1, 4), pod(1, 1, 4), pod(1, 1, 6), pod(1, 1, 6)},
       true,
       20.0,
       2},
      // CPU binds: two nodes of 16 GiB and 8 CPUs, eight pods of 4 GiB and 3 CPUs. EPC alone
      // would take all 8 (32 GiB). Relaxation: the CPU row 3x ≤ 16 → x = 5.33 → 21.33 GiB.
      {"cpu_binds_relaxed", copies(node("c", 8, 256, 16), 2), copies(pod(3, 1, 4), 8), false,
       16.0 / 3.0 * 4.0, 1},
      // Capped: ⌊8/3⌋ = 2 pods a node → x ≤ 4 → 16 GiB, the true optimum (half the EPC idle).
      {"cpu_binds_capped", copies(node("c", 8, 256, 16), 2), copies(pod(3, 1, 4), 8), true, 16.0,
       1},
      // The pod count binds: max_pods 2 on one 10 GiB node, five 1 GiB pods → 2 GiB.
      {"pod_count_binds", {with_max_pods(ten, 2)}, copies(pod(1, 1, 1), 5), true, 2.0, 1},
      // A 12 GiB pod fits no 10 GiB node: no column. The two 5 GiB pods: 10 GiB.
      {"too_large_pod_excluded",
       copies(ten, 2),
       {pod(1, 1, 12), pod(1, 1, 5), pod(1, 1, 5)},
       true,
       10.0,
       1},
      // Pre-existing use: "a" has 4 of 16 GiB free, "b" no free enclave slot (so no column).
      // Two 4 GiB pods: one fits "a", 4 GiB; the bound on unallocated is (4 + 16 − 4) / 20.
      {"pre_existing_use",
       {with_use(node("a", 64, 256, 16), 12), with_use(node("b", 64, 256, 16, 8), 0, 8)},
       copies(pod(1, 1, 4), 2),
       true,
       4.0,
       1},
      // A pod without EPC adds nothing to the objective and gets no column.
      {"epc_less_pod_left_out", {ten}, {pod(8, 1, 0), pod(1, 1, 4)}, true, 4.0, 1},
  };
}

class PackingBoundCase : public testing::TestWithParam<BoundCase> {};

TEST_P(PackingBoundCase, OptimumAsComputedByHand) {
  const BoundCase& c = GetParam();
  Trace trace{c.nodes, c.pods};
  Result<PackingBound> bound = bound_packing(
      trace, each_once(trace), PackingBoundOptions{.cap_per_node_count = c.cap_per_node_count});
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  EXPECT_NEAR(bound->placeable_epc_bytes / kGiB, c.placeable_gib, 1e-6);
  EXPECT_EQ(bound->columns, c.columns);
  EXPECT_EQ(bound->arrived_pods, static_cast<std::int64_t>(c.pods.size()));
  const double free = static_cast<double>(bound->free_at_start_epc_bytes);
  EXPECT_NEAR(bound->unallocated_at_full, (free - c.placeable_gib * kGiB) / free, 2e-6);
  EXPECT_LE(bound->unallocated_at_full, (free - c.placeable_gib * kGiB) / free);
  EXPECT_GE(bound->solve_seconds, 0.0);
}

INSTANTIATE_TEST_SUITE_P(HandSolved, PackingBoundCase, testing::ValuesIn(bound_cases()),
                         [](const testing::TestParamInfo<BoundCase>& param) {
                           return param.param.name;
                         });

// ---------------------------------------------------------------------------------------------
// Edges and size.

TEST(PackingBound, CountsShapesTypesRowsAndColumns) {
  // Two types (16 GiB, 32 GiB) × three shapes (2, 20, 40 GiB): the 20 GiB shape fits only the
  // 32 GiB type, 40 GiB none → 3 columns. Rows: the two shapes with columns, and 5 dimensions
  // for each type that has a column (CPU, memory, EPC, slots, pods) → 2 + 10.
  Trace trace;
  trace.nodes = {node("a", 32, 128, 16), node("a2", 32, 128, 16), node("b", 64, 256, 32)};
  trace.pods = {pod(1, 4, 2), pod(1, 4, 2), pod(4, 16, 20), pod(8, 32, 40)};
  Result<PackingBound> bound = bound_packing(trace, each_once(trace));
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  EXPECT_EQ(bound->pod_shapes, 3);
  EXPECT_EQ(bound->node_types, 2);
  EXPECT_EQ(bound->columns, 3);
  EXPECT_EQ(bound->rows, 12);
  EXPECT_EQ(bound->arrived_epc_bytes, 64 * kGi);
  EXPECT_NEAR(bound->placeable_epc_bytes / kGiB, 24.0, 1e-6);  // 2 + 2 + 20
}

TEST(PackingBound, NothingFreeIsNotAnError) {
  Trace trace;
  trace.nodes = {with_use(node("full", 64, 256, 16), 16)};
  trace.pods = {pod(1, 1, 2)};
  Result<PackingBound> bound = bound_packing(trace, each_once(trace));
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  EXPECT_EQ(bound->unallocated_at_full, -1.0);  // as FillResult: n/a
  EXPECT_EQ(bound->columns, 0);
  EXPECT_EQ(bound->placeable_epc_bytes, 0.0);
}

TEST(PackingBound, AtFullUsesTheFillArrivals) {
  Trace trace;
  trace.nodes = copies(node("n", 64, 256, 32), 4);
  trace.pods = {pod(1, 4, 1), pod(4, 16, 5), pod(8, 32, 12)};
  std::int64_t arrived_epc = 0;
  const std::vector<std::size_t> arrivals = draw_arrivals(trace, 7, 1.0);
  for (const std::size_t p : arrivals) {
    arrived_epc += trace.pods[p].epc_bytes;
  }
  Result<PackingBound> bound = bound_packing_at_full(trace, 7);
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  EXPECT_EQ(bound->arrived_pods, static_cast<std::int64_t>(arrivals.size()));
  EXPECT_EQ(bound->arrived_epc_bytes, arrived_epc);
}

TEST(PackingBound, SafeFromSeveralThreads) {
  Trace trace;
  trace.nodes = copies(node("n", 16, 64, 24), 6);
  trace.pods = {pod(1, 4, 1), pod(3, 8, 5), pod(5, 16, 7), pod(2, 4, 11)};
  Result<PackingBound> alone = bound_packing_at_full(trace, 3);
  ASSERT_TRUE(alone.ok()) << alone.error().message;
  std::vector<double> results(4, -2.0);
  std::vector<std::thread> threads;
  for (std::size_t t = 0; t < results.size(); ++t) {
    threads.emplace_back([&, t] {
      for (int repeat = 0; repeat < 20; ++repeat) {
        Result<PackingBound> bound = bound_packing_at_full(trace, 3);
        results[t] = bound.ok() ? bound->unallocated_at_full : -3.0;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  for (const double r : results) {
    EXPECT_EQ(r, alone->unallocated_at_full);
  }
}

// ---------------------------------------------------------------------------------------------
// The property: nothing placed beats the bound.

// A small cluster of 3 node types and 6 pod shapes, all drawn from `seed`: large pods against
// the nodes, tight CPU on some types, pre-existing use, few slots or pods on some nodes, so that
// every dimension binds somewhere.
Trace random_trace(std::uint64_t seed) {
  std::mt19937_64 draw(seed);
  const auto between = [&](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(draw);
  };
  Trace trace;
  for (int t = 0; t < 3; ++t) {
    // One draw per statement: the order of a call's arguments is unspecified.
    const std::int64_t cpus = between(4, 48);
    const std::int64_t memory_gib = between(16, 256);
    const std::int64_t epc_gib = between(8, 64);
    const std::int64_t slots = between(0, 1) == 1 ? 110 : between(2, 8);
    SimNode type = node("t" + std::to_string(t), cpus, memory_gib, epc_gib, slots);
    type.max_pods = between(0, 1) == 1 ? 110 : between(3, 10);
    const std::int64_t count = between(1, 5);
    for (std::int64_t i = 0; i < count; ++i) {
      SimNode n = type;
      n.name += "-" + std::to_string(i);
      if (between(0, 3) == 0) {
        const std::int64_t epc_used_gib = between(0, epc_gib / 2);
        const std::int64_t slots_used = between(0, 1);
        n = with_use(n, epc_used_gib, slots_used, between(0, 1));
      }
      trace.nodes.push_back(n);
    }
  }
  for (int s = 0; s < 6; ++s) {
    const std::int64_t cpus = between(1, 12);
    const std::int64_t memory_gib = between(1, 48);
    trace.pods.push_back(pod(cpus, memory_gib, between(1, 24)));
  }
  return trace;
}

TEST(PackingBound, NoStrategyNorTheOfflineReferenceBeatsIt) {
  Result<std::vector<Strategy>> all = select_strategies("all", Deployment{});
  ASSERT_TRUE(all.ok());
  for (std::uint64_t trace_seed = 1; trace_seed <= 6; ++trace_seed) {
    const Trace trace = random_trace(trace_seed);
    for (const std::uint64_t seed : {11ULL, 12ULL, 13ULL}) {
      Result<PackingBound> bound = bound_packing_at_full(trace, seed);
      ASSERT_TRUE(bound.ok()) << bound.error().message;
      ASSERT_GE(bound->unallocated_at_full, 0.0);
      const std::string where =
          "trace " + std::to_string(trace_seed) + ", seed " + std::to_string(seed);
      for (const Strategy& strategy : *all) {
        const FillResult r = run_fill(trace, strategy, seed, {});
        ASSERT_GE(r.unallocated_at_full, 0.0) << where;
        EXPECT_LE(bound->unallocated_at_full, r.unallocated_at_full + 1e-9)
            << strategy.name << ", " << where;
      }
      const FillResult order_zero = run_best_offline(trace, seed, 1);
      const FillResult offline = run_best_offline(trace, seed);
      EXPECT_EQ(offline.arrived_epc_bytes, bound->arrived_epc_bytes) << where;
      EXPECT_LE(bound->unallocated_at_full, offline.unallocated_at_full + 1e-9) << where;
      EXPECT_LE(offline.unallocated_at_full, order_zero.unallocated_at_full) << where;
      EXPECT_TRUE(offline.stayed_within_capacity) << where;
    }
  }
}

}  // namespace
}  // namespace epc::tools::sim
