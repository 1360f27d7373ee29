#include "extender/core/capacity.h"

#include <cstdint>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::core {
namespace {

using testing_support::kMi;
using testing_support::kSecondNs;
using testing_support::NodeBuilder;
using testing_support::pod;

constexpr std::int64_t kNowNs = 100 * kSecondNs;

struct PodsThatFitRow {
  std::string_view name;
  PodRequest shape;
  NodeRow node;
  std::int64_t headroom_bytes;
  std::int64_t want;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const PodsThatFitRow& row, std::ostream* os) { *os << row.name; }

const PodsThatFitRow kPodsThatFitRows[] = {
    // EPC limits: 768Mi free / 256Mi = 3; slots 8 / 1 = 8; min = 3.
    {"EpcLimits", pod(256 * kMi, 1), NodeBuilder().epc(1024 * kMi, 256 * kMi).enclave_slots(10, 2),
     0, 3},
    // Slots limit: 768 / 64 = 12; slots 2 / 1 = 2; min = 2.
    {"SlotsLimit", pod(64 * kMi, 1), NodeBuilder().epc(1024 * kMi, 256 * kMi).enclave_slots(10, 8),
     0, 2},
    // Integer division: 768 / 300 = 2.56 → 2.
    {"RoundsDown", pod(300 * kMi, 1), NodeBuilder().epc(1024 * kMi, 256 * kMi).enclave_slots(10), 0,
     2},
    // Headroom 256Mi: free = 1024 − 256 − 256 = 512; 512 / 256 = 2.
    {"Headroom", pod(256 * kMi, 1), NodeBuilder().epc(1024 * kMi, 256 * kMi).enclave_slots(10),
     256 * kMi, 2},
    // Provision slots limit: 1 free / 1 = 1.
    {"ProvisionLimits", pod(64 * kMi, 1, 1),
     NodeBuilder().epc(1024 * kMi).enclave_slots(10).provision_slots(2, 1), 0, 1},
    // Only slots used by the shape: EPC does not limit (10 free slots / 2 = 5).
    {"SlotsOnlyShape", pod(0, 2), NodeBuilder().enclave_slots(10), 0, 5},
    // A shape using nothing: 0, not "infinitely many".
    {"EmptyShape", pod(0), NodeBuilder().epc(1024 * kMi).enclave_slots(10), 0, 0},
    // Full node: 0.
    {"Full", pod(64 * kMi, 1), NodeBuilder().epc(1024 * kMi, 1024 * kMi).enclave_slots(10), 0, 0},
};

class PodsThatFitTest : public testing::TestWithParam<PodsThatFitRow> {};

TEST_P(PodsThatFitTest, Row) {
  const PodsThatFitRow& row = GetParam();
  EXPECT_EQ(
      pods_that_fit(row.shape, row.node, NodeAccounting{.epc_headroom_bytes = row.headroom_bytes}),
      row.want);
}

INSTANTIATE_TEST_SUITE_P(Rows, PodsThatFitTest, testing::ValuesIn(kPodsThatFitRows),
                         testing_support::RowName());

NodeBuilder roomy() {
  // 1024Mi free, 10 slots free, fresh.
  return NodeBuilder().epc(1024 * kMi).enclave_slots(10).reported_at(kNowNs);
}

TEST(ClusterCapacityTest, CountsOnlyNodesThatCanTakePods) {
  const std::vector<NodeRow> rows = {
      roomy(),                                       // 1024 / 256 = 4
      roomy().epc(1024 * kMi, 512 * kMi),            // 512 / 256 = 2
      roomy().epc(1024 * kMi, 1024 * kMi),           // full: 0
      roomy().reported_at(kNowNs - 60 * kSecondNs),  // stale: 0 despite 4 by numbers
      roomy().unhealthy(),                           // unhealthy: 0
      roomy().never_reported(),                      // no report: 0
      roomy().no_sgx(),                              // no SGX: 0
      roomy().epc(128 * kMi),                        // capacity too small: 0
  };
  const FitContext context{.now_ns = kNowNs, .stale_after_ns = 30 * kSecondNs, .accounting = {}};
  std::vector<std::int64_t> per_node(rows.size(), -1);
  const ClusterCapacity got = cluster_capacity(pod(256 * kMi, 1), rows, context, per_node);
  EXPECT_EQ(got.total_pods, 6);  // 4 + 2
  EXPECT_EQ(got.nodes_with_room, 2);
  EXPECT_EQ(per_node, (std::vector<std::int64_t>{4, 2, 0, 0, 0, 0, 0, 0}));
  // Stranded: only the trusted 128Mi node's free 128Mi (the full node has none free; stale,
  // unhealthy, unreported and SGX-less nodes are not believed).
  EXPECT_EQ(got.stranded_epc_bytes, 128 * kMi);
}

// A node with EPC to spare but no enclave slot left strands all of its free EPC for an enclave
// shape: 1000Mi on the slotless node. The 1000 − 3·256 = 232Mi the other node keeps after three
// more pods is not counted: that node can still take one.
TEST(ClusterCapacityTest, FreeEpcWithoutSlotsIsStranded) {
  const std::vector<NodeRow> rows = {
      roomy().epc(1024 * kMi, 24 * kMi),                        // 1000 / 256 = 3
      roomy().epc(1024 * kMi, 24 * kMi).enclave_slots(10, 10),  // no slot: 0, 1000Mi stranded
  };
  const FitContext context{.now_ns = kNowNs, .stale_after_ns = 0, .accounting = {}};
  const ClusterCapacity got = cluster_capacity(pod(256 * kMi, 1), rows, context, {});
  EXPECT_EQ(got.total_pods, 3);
  EXPECT_EQ(got.nodes_with_room, 1);
  EXPECT_EQ(got.stranded_epc_bytes, 1000 * kMi);
}

TEST(ClusterCapacityTest, HeadroomApplies) {
  const std::vector<NodeRow> rows = {roomy(), roomy()};
  // Headroom 512Mi: 512 / 256 = 2 per node.
  const FitContext context{
      .now_ns = kNowNs, .stale_after_ns = 0, .accounting = {.epc_headroom_bytes = 512 * kMi}};
  const ClusterCapacity got = cluster_capacity(pod(256 * kMi, 1), rows, context, {});
  EXPECT_EQ(got.total_pods, 4);
  EXPECT_EQ(got.nodes_with_room, 2);
}

TEST(ClusterCapacityTest, MissizedOutputIsNotWritten) {
  const std::vector<NodeRow> rows = {roomy(), roomy()};
  std::vector<std::int64_t> per_node(1, -1);  // wrong size: must be left alone
  const ClusterCapacity got = cluster_capacity(
      pod(256 * kMi, 1), rows, FitContext{.now_ns = kNowNs, .stale_after_ns = 0, .accounting = {}},
      per_node);
  EXPECT_EQ(got.total_pods, 8);  // 4 + 4
  EXPECT_EQ(per_node[0], -1);
}

TEST(ClusterCapacityTest, NoNodes) {
  const ClusterCapacity got = cluster_capacity(pod(256 * kMi, 1), {}, FitContext{}, {});
  EXPECT_EQ(got.total_pods, 0);
  EXPECT_EQ(got.nodes_with_room, 0);
}

// The closed form against the definition: place pods of the shape on a copy of the node one after
// another, each admitted by core::fit and then accounted as a placed pod is (its EPC requested,
// and live use grows by it where the kernel counts EPC, since its enclave runs), until fit refuses.
std::int64_t placed_one_by_one(const PodRequest& shape, NodeRow node, const FitContext& context) {
  std::int64_t placed = 0;
  while (fit(shape, node, context).fits()) {
    node.epc_requested_bytes += shape.epc_bytes;
    if (node.live_used_known) {
      node.epc_live_used_bytes += shape.epc_bytes;
    }
    node.enclave_slots_used += shape.enclave_slots;
    node.provision_slots_used += shape.provision_slots;
    ++placed;
  }
  return placed;
}

TEST(ClusterCapacityTest, EqualsPlacingPodsOneByOneOnRandomClusters) {
  std::mt19937_64 random(20261203);
  auto pick = [&random](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random);
  };
  for (int round = 0; round < 40; ++round) {
    std::vector<NodeRow> rows;
    for (int i = 0; i < 60; ++i) {
      const std::int64_t capacity = pick(0, 4096) * kMi;
      NodeBuilder node = roomy()
                             .epc(capacity, pick(0, 5) == 0 ? capacity + kMi : pick(0, capacity))
                             .enclave_slots(pick(0, 20), 0)
                             .provision_slots(pick(0, 3), 0);
      NodeRow row = node;
      row.enclave_slots_used = pick(0, row.enclave_slots_total + 1);  // sometimes over-reported
      row.provision_slots_used = pick(0, row.provision_slots_total);
      if (pick(0, 2) == 0) {
        row.live_used_known = true;
        row.epc_live_used_bytes = pick(0, capacity + 64 * kMi);
      }
      switch (pick(0, 9)) {
        case 0:
          row.report_time_ns.store(kNowNs - 60 * kSecondNs);  // stale
          break;
        case 1:
          row.health = NodeHealth::kUnhealthy;
          break;
        case 2:
          row.has_sgx = false;
          break;
        default:
          break;
      }
      rows.push_back(row);
    }
    const FitContext context{.now_ns = kNowNs,
                             .stale_after_ns = 30 * kSecondNs,
                             .accounting = {.epc_headroom_bytes = pick(0, 2) * 64 * kMi}};
    for (int s = 0; s < 10; ++s) {
      PodRequest shape = pod(pick(0, 3) == 0 ? 0 : pick(4, 1024) * kMi, pick(0, 2), pick(0, 1));
      if (!shape.wants_sgx()) {
        shape.enclave_slots = 1;
      }
      std::vector<std::int64_t> per_node(rows.size(), -1);
      const ClusterCapacity got = cluster_capacity(shape, rows, context, per_node);
      ClusterCapacity want;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const std::int64_t placed = placed_one_by_one(shape, rows[i], context);
        ASSERT_EQ(per_node[i], placed) << "round " << round << " shape " << s << " node " << i;
        want.total_pods += placed;
        want.nodes_with_room += placed > 0 ? 1 : 0;
        if (placed == 0 && node_trusted(rows[i], context.now_ns, context.stale_after_ns)) {
          want.stranded_epc_bytes += free_epc_bytes(rows[i], context.accounting);
        }
      }
      EXPECT_EQ(got.total_pods, want.total_pods);
      EXPECT_EQ(got.nodes_with_room, want.nodes_with_room);
      EXPECT_EQ(got.stranded_epc_bytes, want.stranded_epc_bytes);
    }
  }
}

}  // namespace
}  // namespace epc::core
