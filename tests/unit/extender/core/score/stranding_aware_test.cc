#include "extender/core/score/stranding_aware.h"

#include <array>
#include <cstdint>

#include <gtest/gtest.h>

#include "extender/core/score/best_fit.h"
#include "tests/unit/extender/core/test_rows.h"

namespace epc::core::score {
namespace {

using testing_support::kGi;
using testing_support::NodeBuilder;

constexpr std::int64_t kCores = 1000;  // millicores

PodRequest pod_with(std::int64_t epc_gib, std::int64_t cores, std::int64_t memory_gib) {
  PodRequest request{epc_gib * kGi, 1, 0};
  request.cpu_milli = cores * kCores;
  request.memory_bytes = memory_gib * kGi;
  return request;
}

// A 64 GiB-EPC node with 32 cores and 256 GiB of memory, `epc_used` GiB and `cores_used` taken.
NodeRow node(std::int64_t epc_used_gib, std::int64_t cores_used, std::int64_t memory_used_gib = 0) {
  return NodeBuilder()
      .epc(64 * kGi, epc_used_gib * kGi)
      .enclave_slots(110, 1)
      .cpu_memory(32 * kCores, cores_used * kCores, 256 * kGi, memory_used_gib * kGi);
}

TEST(StrandingAware, StrandedShareIsFreeEpcBeyondWhatCpuAndMemoryCarry) {
  // Half the EPC free, a quarter of the CPU: a quarter of the node's EPC is stranded.
  EXPECT_DOUBLE_EQ(stranded_share(node(32, 24), {}), 0.25);
  // Memory binds instead: 3/4 of the EPC free, half of the memory.
  EXPECT_DOUBLE_EQ(stranded_share(node(16, 0, 128), {}), 0.25);
  // CPU and memory freer than EPC: nothing stranded.
  EXPECT_DOUBLE_EQ(stranded_share(node(48, 8), {}), 0.0);
  // Unknown CPU and memory: nothing can be said.
  EXPECT_DOUBLE_EQ(stranded_share(NodeBuilder().epc(64 * kGi).build(), {}), 0.0);
}

TEST(StrandingAware, WithoutCpuAndMemoryItIsBestFit) {
  const ScoreContext context{};
  for (const std::int64_t used_gib : {0, 8, 40, 60}) {
    const NodeRow row = NodeBuilder().epc(64 * kGi, used_gib * kGi).enclave_slots(110, 3);
    const PodRequest request = pod_with(4, 2, 8);
    EXPECT_EQ(stranding_aware_raw(request, row, context), best_fit_raw(request, row, context))
        << used_gib;
  }
}

TEST(StrandingAware, EpcHeavyPodTakesTheEpcThatCpuWouldLeaveIdle) {
  const ScoreContext context{};
  // Both nodes have 24 GiB of EPC free. On `cpu_short` only 4 cores are left, so most of that
  // EPC is stranded unless a pod needing much EPC and little CPU uses it; `balanced` keeps CPU
  // in step. BestFit cannot tell them apart; StrandingAware sends the EPC-heavy pod to the first.
  const NodeRow cpu_short = node(40, 28);
  const NodeRow balanced = node(40, 20);
  const PodRequest epc_heavy = pod_with(16, 1, 8);
  EXPECT_EQ(best_fit_raw(epc_heavy, cpu_short, context),
            best_fit_raw(epc_heavy, balanced, context));
  EXPECT_GT(stranding_aware_raw(epc_heavy, cpu_short, context),
            stranding_aware_raw(epc_heavy, balanced, context));
}

TEST(StrandingAware, CpuHeavyPodDoesNotStrandANodesEpc) {
  const ScoreContext context{};
  // The CPU-heavy pod would leave `tighter` (BestFit's choice: less EPC free) with 1 core for
  // 20 GiB of EPC; on `roomier` it leaves CPU and EPC in step.
  const NodeRow tighter = node(44, 16);
  const NodeRow roomier = node(36, 0);
  const PodRequest cpu_heavy = pod_with(4, 15, 8);
  EXPECT_GT(best_fit_raw(cpu_heavy, tighter, context), best_fit_raw(cpu_heavy, roomier, context));
  EXPECT_GT(stranding_aware_raw(cpu_heavy, roomier, context),
            stranding_aware_raw(cpu_heavy, tighter, context));
}

TEST(StrandingAware, WithoutStrandingTheTighterHoleWins) {
  const ScoreContext context{};
  // CPU and memory plentiful everywhere: the order is BestFit's.
  const PodRequest request = pod_with(8, 1, 4);
  EXPECT_GT(stranding_aware_raw(request, node(48, 0), context),
            stranding_aware_raw(request, node(16, 0), context));
}

TEST(StrandingAware, RawStaysInRangeForAbsurdRows) {
  const ScoreContext context{};
  const PodRequest request = pod_with(8, 4, 16);
  // Requests above allocatable (a node resized under its pods), and a zero-sized CPU.
  const NodeRow over = NodeBuilder()
                           .epc(64 * kGi, 8 * kGi)
                           .cpu_memory(1000, 900'000'000, 256 * kGi, std::int64_t{1} << 62);
  const NodeRow no_cpu = NodeBuilder().epc(64 * kGi).cpu_memory(0, 0, 256 * kGi, 0);
  for (const NodeRow& row : {over, no_cpu}) {
    const std::int64_t raw = stranding_aware_raw(request, row, context);
    EXPECT_GE(raw, 0);
    EXPECT_LE(raw, kBestFitScale);
  }
  EXPECT_EQ(stranding_aware_raw(request, no_cpu, context), best_fit_raw(request, no_cpu, context));
}

TEST(StrandingAware, BatchMatchesSingleNodeScores) {
  const ScoreContext context{};
  const std::array<NodeRow, 4> rows{node(40, 28), node(40, 20), node(10, 2),
                                    NodeBuilder().epc(64 * kGi, 8 * kGi).build()};
  const std::array<const NodeRow*, 5> nodes{&rows[0], &rows[1], &rows[2], &rows[3], nullptr};
  std::array<std::int64_t, 5> raws{};
  const PodRequest request = pod_with(16, 1, 8);
  stranding_aware_raws(request, nodes, context, raws);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(raws[i], stranding_aware_raw(request, rows[i], context)) << i;
  }
  EXPECT_EQ(raws[4], 0);
}

TEST(StrandingAware, NamedInThePolicyTable) {
  EXPECT_EQ(policy_from_name("StrandingAware"), PolicyKind::kStrandingAware);
  EXPECT_EQ(policy_name(PolicyKind::kStrandingAware), "StrandingAware");
}

}  // namespace
}  // namespace epc::core::score
