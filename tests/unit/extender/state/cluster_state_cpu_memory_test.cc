// The writer's CPU and memory inputs: node allocatable from ApiNodeBatch, per-node requested totals
// from ApiPodBatch::node_requested, and when a row calls them known (NodeRow::cpu_memory_known),
// through the real ClusterState::create.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "extender/state/cluster_state.h"

namespace epc::state {
namespace {

constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kGi = std::int64_t{1} << 30;

ApiNode api_node(std::string name, std::optional<std::int64_t> cpu_milli,
                 std::optional<std::int64_t> memory_bytes, std::int64_t epc_bytes = 8 * kGi) {
  ApiNode node;
  node.name = std::move(name);
  node.epc_bytes = epc_bytes;
  node.readiness = NodeReadiness::kReady;
  node.cpu_allocatable_milli = cpu_milli;
  node.memory_allocatable_bytes = memory_bytes;
  return node;
}

ApiNodeBatch nodes_batch(std::vector<ApiNode> upserts) {
  ApiNodeBatch batch;
  batch.replace = true;
  batch.upserts = std::move(upserts);
  return batch;
}

NodeCpuMemoryRequested totals(std::string node, std::int64_t cpu_milli, std::int64_t memory_bytes,
                              std::int64_t pods) {
  return NodeCpuMemoryRequested{
      .node = std::move(node), .cpu_milli = cpu_milli, .memory_bytes = memory_bytes, .pods = pods};
}

ApiPodBatch totals_batch(std::vector<NodeCpuMemoryRequested> node_requested, bool replace = false) {
  ApiPodBatch batch;
  batch.replace = replace;
  batch.node_requested = std::move(node_requested);
  return batch;
}

core::NodeRow row(ClusterState& state, std::string_view node) {
  state.flush();
  const ClusterSnapshotPtr snapshot = state.snapshot();
  auto index = snapshot->find(node);
  EXPECT_TRUE(index.has_value()) << node;
  return index.has_value() ? snapshot->row(*index) : core::NodeRow{};
}

std::unique_ptr<ClusterState> api_state() {
  ClusterState::Options options;
  options.api_configured = true;
  return ClusterState::create(options);
}

// ---------------------------------------------------------------------------------------------

TEST(ClusterStateCpuMemoryTest, KnownOnlyOnceThePodListIsIn) {
  const auto state = api_state();
  state->apply_api_nodes(nodes_batch({api_node("a", 15890, 64 * kGi)}));
  // Allocatable is shown, but before the first pod list the requested sums are not complete.
  core::NodeRow before = row(*state, "a");
  EXPECT_FALSE(before.cpu_memory_known);
  EXPECT_EQ(before.cpu_allocatable_milli, 15890);
  EXPECT_EQ(before.memory_allocatable_bytes, 64 * kGi);

  state->apply_api_pods(totals_batch({totals("a", 2100, 4 * kGi, 3)}, /*replace=*/true));
  core::NodeRow after = row(*state, "a");
  EXPECT_TRUE(after.cpu_memory_known);
  EXPECT_EQ(after.cpu_allocatable_milli, 15890);
  EXPECT_EQ(after.cpu_requested_milli, 2100);
  EXPECT_EQ(after.memory_allocatable_bytes, 64 * kGi);
  EXPECT_EQ(after.memory_requested_bytes, 4 * kGi);
}

TEST(ClusterStateCpuMemoryTest, AnEmptyRelistMakesIdleNodesKnown) {
  const auto state = api_state();
  state->apply_api_nodes(nodes_batch({api_node("a", 8000, 16 * kGi)}));
  state->apply_api_pods(totals_batch({}, /*replace=*/true));  // no pod bound anywhere
  const core::NodeRow a = row(*state, "a");
  EXPECT_TRUE(a.cpu_memory_known);
  EXPECT_EQ(a.cpu_requested_milli, 0);
  EXPECT_EQ(a.memory_requested_bytes, 0);
}

TEST(ClusterStateCpuMemoryTest, ANodeWithoutCpuOrMemoryAllocatableStaysUnknown) {
  const auto state = api_state();
  state->apply_api_nodes(nodes_batch(
      {api_node("no-memory", 8000, std::nullopt), api_node("no-cpu", std::nullopt, kGi)}));
  state->apply_api_pods(totals_batch({totals("no-memory", 100, 0, 1)}, /*replace=*/true));
  EXPECT_FALSE(row(*state, "no-memory").cpu_memory_known);
  EXPECT_FALSE(row(*state, "no-cpu").cpu_memory_known);
  EXPECT_EQ(row(*state, "no-memory").cpu_requested_milli, 100);  // shown all the same
}

TEST(ClusterStateCpuMemoryTest, ChangedTotalsMoveOnlyTheirNode) {
  const auto state = api_state();
  state->apply_api_nodes(
      nodes_batch({api_node("a", 8000, 16 * kGi), api_node("b", 8000, 16 * kGi)}));
  state->apply_api_pods(
      totals_batch({totals("a", 100, 64 * kMi, 1), totals("b", 200, 0, 1)}, /*replace=*/true));
  ASSERT_EQ(row(*state, "a").cpu_requested_milli, 100);

  // A pod bound to a: its new totals (absolute).
  state->apply_api_pods(totals_batch({totals("a", 600, 1088 * kMi, 2)}));
  EXPECT_EQ(row(*state, "a").cpu_requested_milli, 600);
  EXPECT_EQ(row(*state, "a").memory_requested_bytes, 1088 * kMi);
  EXPECT_EQ(row(*state, "b").cpu_requested_milli, 200);

  // b's last pod left: pods 0, totals 0.
  state->apply_api_pods(totals_batch({totals("b", 0, 0, 0)}));
  EXPECT_EQ(row(*state, "b").cpu_requested_milli, 0);
  EXPECT_TRUE(row(*state, "b").cpu_memory_known);
}

TEST(ClusterStateCpuMemoryTest, ARelistReplacesEveryTotal) {
  const auto state = api_state();
  state->apply_api_nodes(
      nodes_batch({api_node("a", 8000, 16 * kGi), api_node("b", 8000, 16 * kGi)}));
  state->apply_api_pods(
      totals_batch({totals("a", 100, 1, 1), totals("b", 200, 2, 1)}, /*replace=*/true));
  // After a 410 the relist has pods on b only: a drops to 0.
  state->apply_api_pods(totals_batch({totals("b", 300, 3, 2)}, /*replace=*/true));
  EXPECT_EQ(row(*state, "a").cpu_requested_milli, 0);
  EXPECT_EQ(row(*state, "a").memory_requested_bytes, 0);
  EXPECT_EQ(row(*state, "b").cpu_requested_milli, 300);
  EXPECT_EQ(row(*state, "b").memory_requested_bytes, 3);
}

TEST(ClusterStateCpuMemoryTest, TotalsOfANodeNotYetInTheTableApplyWhenItArrives) {
  const auto state = api_state();
  state->apply_api_pods(totals_batch({totals("late", 750, 2 * kGi, 4)}, /*replace=*/true));
  state->apply_api_pods(totals_batch({totals("plain", 10, 10, 1)}));  // never an SGX node
  state->flush();
  EXPECT_FALSE(state->snapshot()->find("plain").has_value());
  state->apply_api_nodes(nodes_batch({api_node("late", 4000, 8 * kGi)}));
  const core::NodeRow late = row(*state, "late");
  EXPECT_TRUE(late.cpu_memory_known);
  EXPECT_EQ(late.cpu_requested_milli, 750);
  EXPECT_EQ(late.memory_requested_bytes, 2 * kGi);
}

TEST(ClusterStateCpuMemoryTest, TotalsOfNodesOutsideTheTablePublishNothing) {
  const auto state = api_state();
  state->apply_api_nodes(nodes_batch({api_node("a", 8000, 16 * kGi)}));
  state->apply_api_pods(totals_batch({totals("a", 1, 1, 1)}, /*replace=*/true));
  state->flush();
  const std::uint64_t version = state->snapshot()->version();
  // Pods without SGX come and go on nodes without SGX: not a row moves, nothing is published.
  state->apply_api_pods(totals_batch({totals("plain-1", 100, 1, 1)}));
  state->apply_api_pods(totals_batch({totals("plain-1", 0, 0, 0)}));
  state->apply_api_pods(totals_batch({totals("a", 1, 1, 1)}));  // unchanged
  state->flush();
  EXPECT_EQ(state->snapshot()->version(), version);
  state->apply_api_pods(totals_batch({totals("a", 2, 1, 2)}));
  state->flush();
  EXPECT_GT(state->snapshot()->version(), version);
}

TEST(ClusterStateCpuMemoryTest, NodesKnownOnlyFromReportsStayUnknown) {
  const auto state = api_state();
  NodeState reported;
  reported.sgx_present = true;
  reported.epc_capacity_bytes = 8 * kGi;
  reported.epc_sections = {{0, 8 * kGi}};
  reported.enclave_slots = {100, 0};
  for (const char* name : {"plugin-only", "plugin-and-api"}) {
    ReportMessage m;
    m.node_name = name;
    m.instance_id = "i1";
    m.sequence = 1;
    m.body = reported;
    ASSERT_TRUE(state->apply(std::move(m)).ok());
  }
  state->apply_api_nodes(nodes_batch({api_node("plugin-and-api", 8000, 16 * kGi)}));
  state->apply_api_pods(totals_batch(
      {totals("plugin-only", 500, kGi, 2), totals("plugin-and-api", 300, kGi, 1)}, true));
  const core::NodeRow plugin_only = row(*state, "plugin-only");
  EXPECT_FALSE(plugin_only.cpu_memory_known);
  EXPECT_EQ(plugin_only.cpu_allocatable_milli, 0);
  const core::NodeRow both = row(*state, "plugin-and-api");
  EXPECT_TRUE(both.cpu_memory_known);
  EXPECT_EQ(both.cpu_allocatable_milli, 8000);
  EXPECT_EQ(both.cpu_requested_milli, 300);
  EXPECT_EQ(both.epc_capacity_bytes, 8 * kGi);  // the plugin's, as before
}

TEST(ClusterStateCpuMemoryTest, AnSgxPodsEpcAccountingIsUnchangedByItsCpuAndMemory) {
  const auto state = api_state();
  state->apply_api_nodes(nodes_batch({api_node("a", 8000, 16 * kGi)}));
  ApiPodBatch batch = totals_batch({totals("a", 1500, 2 * kGi, 1)}, /*replace=*/true);
  batch.upserts.push_back(core::ApiPod{
      .pod = core::PodKey{"ns/sgx", "uid-sgx"},
      .node = "a",
      .request = core::PodRequest{.epc_bytes = 64 * kMi,
                                  .enclave_slots = 1,
                                  .cpu_milli = 1500,
                                  .memory_bytes = 2 * kGi},
  });
  state->apply_api_pods(std::move(batch));
  const core::NodeRow a = row(*state, "a");
  EXPECT_EQ(a.epc_requested_bytes, 64 * kMi);
  EXPECT_EQ(a.enclave_slots_used, 1);
  EXPECT_EQ(a.cpu_requested_milli, 1500);
  EXPECT_EQ(a.memory_requested_bytes, 2 * kGi);
  const PodRecord* pod = state->snapshot()->pods().find("uid-sgx");
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->request.epc_bytes, 64 * kMi);
}

}  // namespace
}  // namespace epc::state
