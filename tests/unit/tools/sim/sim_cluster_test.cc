// SimCluster with nodes that are already partly used (SimNode::*_used): every view of the node,
// kube-scheduler's filter, the extender's core::fit and the strategies' scores, sees that load.
#include "tools/sim/sim_cluster.h"

#include <optional>
#include <vector>

#include <gtest/gtest.h>

#include "extender/core/fit.h"
#include "tests/unit/tools/sim/sim_fixtures.h"
#include "tools/sim/scheduler.h"
#include "tools/sim/strategy.h"

namespace epc::tools::sim {
namespace {

using core::score::PolicyKind;
using testing_support::kGi;
using testing_support::node;
using testing_support::pod;
using testing_support::with_use;

bool extender_fits(const SimCluster& cluster, std::size_t i, const SimPod& p) {
  return core::fit(demand_of(p).sgx, cluster.row(i), core::FitContext{}).fits();
}

TEST(SimClusterPreUse, EpcUsedLeavesOnlyTheRest) {
  // 12 of 16 GiB held: a 6 GiB pod no longer fits, a 4 GiB one does (exactly the rest).
  const std::vector<SimNode> nodes{with_use(node("a", 32, 128, 16), 12)};
  SimCluster cluster(nodes);
  EXPECT_EQ(cluster.row(0).epc_requested_bytes, 12 * kGi);
  EXPECT_FALSE(cluster.kube_fits(0, demand_of(pod(1, 1, 6)), true));
  EXPECT_FALSE(extender_fits(cluster, 0, pod(1, 1, 6)));
  EXPECT_FALSE(cluster.fits_at_start(0, demand_of(pod(1, 1, 6))));
  EXPECT_TRUE(cluster.kube_fits(0, demand_of(pod(1, 1, 4)), true));
  EXPECT_TRUE(extender_fits(cluster, 0, pod(1, 1, 4)));
  EXPECT_TRUE(cluster.fits_at_start(0, demand_of(pod(1, 1, 4))));
  EXPECT_EQ(cluster.largest_placeable_epc(), 4 * kGi);

  // The pre-existing use is not "placed" by the simulation, but it is not free either.
  EXPECT_EQ(cluster.epc_capacity(), 16 * kGi);
  EXPECT_EQ(cluster.epc_used_at_start(), 12 * kGi);
  EXPECT_EQ(cluster.epc_free_at_start(), 4 * kGi);
  EXPECT_EQ(cluster.epc_placed(), 0);
  EXPECT_EQ(cluster.epc_free(), 4 * kGi);
  cluster.place(0, demand_of(pod(1, 1, 4)));
  EXPECT_EQ(cluster.epc_placed(), 4 * kGi);
  EXPECT_EQ(cluster.epc_free(), 0);
  EXPECT_TRUE(cluster.within_capacity());  // 12 + 4 = 16: full, not over
  EXPECT_FALSE(extender_fits(cluster, 0, pod(1, 1, 1)));
  // At the start the node still took the 4 GiB pod: fits_at_start does not move with placements.
  EXPECT_TRUE(cluster.fits_at_start(0, demand_of(pod(1, 1, 4))));
}

TEST(SimClusterPreUse, EnclaveSlotsUsedCountAgainstTheSlots) {
  // 4 slots, 3 held: one more single-slot pod, then none (kube's extended resource and the
  // extender's slot check agree).
  const std::vector<SimNode> nodes{with_use(node("a", 32, 128, 16, 4), 0, 3)};
  SimCluster cluster(nodes);
  EXPECT_EQ(cluster.row(0).enclave_slots_used, 3);
  EXPECT_TRUE(cluster.kube_fits(0, demand_of(pod(1, 1, 1)), false));
  EXPECT_TRUE(extender_fits(cluster, 0, pod(1, 1, 1)));
  cluster.place(0, demand_of(pod(1, 1, 1)));
  EXPECT_FALSE(cluster.kube_fits(0, demand_of(pod(1, 1, 1)), false));
  EXPECT_FALSE(extender_fits(cluster, 0, pod(1, 1, 1)));
  EXPECT_EQ(cluster.largest_placeable_epc(), 0);  // 15 GiB free, but no slot to use it
  EXPECT_TRUE(cluster.within_capacity());
}

TEST(SimClusterPreUse, PodsUsedCountAgainstMaxPods) {
  // max_pods 110 (the fixture's), 109 pods there: one more pod of any kind, then none. The
  // extender does not count pods; kube-scheduler's filter does.
  const std::vector<SimNode> nodes{with_use(node("a", 32, 128, 16), 0, 0, 109)};
  SimCluster cluster(nodes);
  EXPECT_EQ(cluster.use(0).pods, 109);
  EXPECT_TRUE(cluster.kube_fits(0, demand_of(pod(1, 1, 1)), true));
  EXPECT_TRUE(cluster.fits_at_start(0, demand_of(pod(1, 1, 1))));
  cluster.place(0, demand_of(pod(1, 1, 1)));
  EXPECT_FALSE(cluster.kube_fits(0, demand_of(pod(1, 1, 0)), true));
  EXPECT_TRUE(extender_fits(cluster, 0, pod(1, 1, 1)));
  EXPECT_TRUE(cluster.within_capacity());

  const std::vector<SimNode> full{with_use(node("b", 32, 128, 16), 0, 0, 110)};
  SimCluster full_cluster(full);
  EXPECT_FALSE(full_cluster.fits_at_start(0, demand_of(pod(1, 1, 1))));
  EXPECT_TRUE(full_cluster.within_capacity());
}

TEST(SimClusterPreUse, StrategiesScoreThePreExistingLoad) {
  // Two 16 GiB nodes, one with 12 GiB held. For a 4 GiB pod BestFit must pick the busy node (its 4
  // GiB left fit exactly); on a fresh copy of the same nodes the two tie and either may win.
  const std::vector<SimNode> nodes{node("empty", 32, 128, 16),
                                   with_use(node("busy", 32, 128, 16), 12)};
  for (const bool ideal : {false, true}) {
    const Strategy strategy{
        .name = "BestFit", .extender = PolicyKind::kBestFit, .extender_weight = 5, .ideal = ideal};
    for (std::uint64_t seed = 1; seed <= 8; ++seed) {
      SimCluster cluster(nodes);
      Scheduler scheduler(strategy, seed);
      EXPECT_EQ(scheduler.schedule(cluster, demand_of(pod(1, 1, 4))), std::optional<std::size_t>(1))
          << "ideal " << ideal << " seed " << seed;
      // 6 GiB: only the empty node has room.
      EXPECT_EQ(scheduler.schedule(cluster, demand_of(pod(1, 1, 6))), std::optional<std::size_t>(0))
          << "ideal " << ideal << " seed " << seed;
    }
  }
  // kube-scheduler alone with EPC as an extended resource filters on it too.
  const std::vector<SimNode> both_busy{with_use(node("a", 32, 128, 16), 12),
                                       with_use(node("b", 32, 128, 16), 14)};
  SimCluster cluster(both_busy);
  Scheduler kube(Strategy{.name = "kube-default", .epc_in_kube = true, .extender = std::nullopt},
                 1);
  EXPECT_EQ(kube.schedule(cluster, demand_of(pod(1, 1, 6))), std::nullopt);
  EXPECT_EQ(kube.schedule(cluster, demand_of(pod(1, 1, 3))), std::optional<std::size_t>(0));
}

TEST(SimClusterPreUse, UseBeyondCapacityIsReportedNotHidden) {
  // The generic reader refuses such a node; a Trace built in code can still hold one, and the
  // cluster must not claim to be within capacity then.
  const std::vector<SimNode> nodes{with_use(node("a", 32, 128, 16), 20)};
  const SimCluster cluster(nodes);
  EXPECT_FALSE(cluster.within_capacity());
  EXPECT_EQ(cluster.epc_free_at_start(), 0);
}

}  // namespace
}  // namespace epc::tools::sim
