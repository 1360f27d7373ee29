// The state writer's API-watch and bind inputs (apply_api_pods, apply_api_nodes, api_status,
// reserve_async, cancel_reservation), through the real ClusterState::create. The report and
// scheduler inputs are in cluster_state_impl_test.cc.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/core/fit.h"
#include "extender/state/clock.h"
#include "extender/state/cluster_state.h"

namespace epc::state {
namespace {

constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kGi = std::int64_t{1} << 30;

// ---------------------------------------------------------------------------------------------
// Builders.

NodeState full_state(std::int64_t capacity_bytes, std::int64_t enclave_total = 100) {
  NodeState s;
  s.sgx_present = true;
  s.epc_capacity_bytes = capacity_bytes;
  s.epc_sections = {{0, capacity_bytes}};
  s.enclave_slots = {enclave_total, 0};
  s.provision_slots = {10, 0};
  return s;
}

ReportMessage report(std::string node, NodeState state) {
  ReportMessage m;
  m.node_name = std::move(node);
  m.instance_id = "i1";
  m.sequence = 1;
  m.plugin_version = "test-1";
  m.body = std::move(state);
  return m;
}

core::ApiPod api_pod(std::string namespace_name, std::string uid, std::string node,
                     std::int64_t epc_bytes, std::int32_t priority = 0) {
  return core::ApiPod{.pod = core::PodKey{std::move(namespace_name), std::move(uid)},
                      .node = std::move(node),
                      .request = core::PodRequest{.epc_bytes = epc_bytes, .enclave_slots = 1},
                      .priority = priority,
                      .terminal = false};
}

ApiPodBatch pods_batch(std::vector<core::ApiPod> upserts, bool replace = false) {
  ApiPodBatch batch;
  batch.replace = replace;
  batch.upserts = std::move(upserts);
  return batch;
}

ApiNode api_node(std::string name, std::optional<std::int64_t> epc_bytes,
                 NodeReadiness readiness = NodeReadiness::kReady) {
  ApiNode node;
  node.name = std::move(name);
  node.epc_bytes = epc_bytes;
  node.readiness = readiness;
  return node;
}

ApiNodeBatch nodes_batch(std::vector<ApiNode> upserts, bool replace = false) {
  ApiNodeBatch batch;
  batch.replace = replace;
  batch.upserts = std::move(upserts);
  return batch;
}

BindRequest bind_request(std::string namespace_name, std::string uid, std::string node) {
  return BindRequest{.pod = core::PodKey{std::move(namespace_name), std::move(uid)},
                     .node = std::move(node)};
}

// A reservation's outcome together with the snapshot current when its `done` ran (on the writer
// thread, right after the publication that includes it: no later tick can have changed it).
struct Reserved {
  common::Result<BindReservation> result;
  ClusterSnapshotPtr snapshot;
};

Reserved reserve(ClusterState& state, BindRequest request) {
  std::promise<Reserved> promise;
  auto future = promise.get_future();
  state.reserve_async(std::move(request), [&](common::Result<BindReservation> result) {
    promise.set_value(Reserved{std::move(result), state.snapshot()});
  });
  return future.get();
}

const core::NodeRow* row_of(const ClusterSnapshot& snapshot, std::string_view node) {
  auto index = snapshot.find(node);
  return index.has_value() ? &snapshot.row(*index) : nullptr;
}

const NodeInfo* info_of(const ClusterSnapshot& snapshot, std::string_view node) {
  auto index = snapshot.find(node);
  return index.has_value() ? &snapshot.info(*index) : nullptr;
}

std::int64_t requested(const ClusterSnapshot& snapshot, std::string_view node) {
  const core::NodeRow* row = row_of(snapshot, node);
  EXPECT_NE(row, nullptr) << node;
  return row == nullptr ? -1 : row->epc_requested_bytes;
}

// Polls the published snapshot (no message sent: the writer must act on its own) until `done`
// holds or the deadline passes. True if it held.
bool eventually(ClusterState& state, const std::function<bool(const ClusterSnapshot&)>& done,
                std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (done(*state.snapshot())) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return done(*state.snapshot());
}

// ---------------------------------------------------------------------------------------------
// Nodes from the API.

TEST(ClusterStateSourcesTest, ApiOnlyNodeComesFromItsAllocatable) {
  ClusterState::Options options;
  options.stale_after_ns = 60'000'000'000;
  const auto state = ClusterState::create(options);
  state->apply_api_nodes(nodes_batch({api_node("api-a", 8 * kGi)}));
  state->api_status({ApiResource::kNodes, /*synced=*/false, /*watching=*/true});
  state->flush();

  const auto snap = state->snapshot();
  const core::NodeRow* row = row_of(*snap, "api-a");
  ASSERT_NE(row, nullptr);
  EXPECT_TRUE(row->ever_reported);
  EXPECT_TRUE(row->has_sgx);
  EXPECT_EQ(row->health, core::NodeHealth::kHealthy);
  EXPECT_EQ(row->epc_capacity_bytes, 8 * kGi);
  EXPECT_EQ(row->epc_section_count, 1);
  EXPECT_EQ(row->epc_section_bytes[0], 8 * kGi);
  EXPECT_EQ(row->epc_requested_bytes, 0);
  EXPECT_EQ(core::node_trust(*row, monotonic_now_ns(), options.stale_after_ns),
            core::FitReason::kFits);
  const NodeInfo* info = info_of(*snap, "api-a");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->capacity_source, CapacitySource::kNodeAllocatable);
  EXPECT_EQ(info->api_epc_bytes, 8 * kGi);
  EXPECT_FALSE(info->capacity_mismatch);
  EXPECT_FALSE(info->stream_connected);
}

TEST(ClusterStateSourcesTest, ApiOnlyNodeIsFreshAsLongAsTheNodeWatchBeats) {
  ClusterState::Options options;
  options.stale_after_ns = 1'000'000'000;
  const auto state = ClusterState::create(options);
  state->apply_api_nodes(nodes_batch({api_node("api-a", 8 * kGi)}));
  state->api_status({ApiResource::kNodes, false, true});
  state->flush();
  const core::NodeRow first = *row_of(*state->snapshot(), "api-a");
  EXPECT_GT(first.report_time_ns, 0);
  // Without a beat, the row would go stale by age like a silent plugin.
  EXPECT_EQ(core::node_trust(first, first.report_time_ns + options.stale_after_ns + 1,
                             options.stale_after_ns),
            core::FitReason::kStaleReport);

  // The watch's heartbeat (no node event at all) refreshes it.
  const std::int64_t before_beat = monotonic_now_ns();
  state->api_status({ApiResource::kNodes, false, true});
  state->flush();
  const core::NodeRow beaten = *row_of(*state->snapshot(), "api-a");
  EXPECT_GE(beaten.report_time_ns, before_beat);
  EXPECT_GT(beaten.report_time_ns, first.report_time_ns);

  // A beat of "not watching" does not.
  state->api_status({ApiResource::kNodes, false, false});
  state->flush();
  EXPECT_EQ(row_of(*state->snapshot(), "api-a")->report_time_ns, beaten.report_time_ns);
}

TEST(ClusterStateSourcesTest, ApiOnlyNodeThatIsNotReadyIsUnhealthy) {
  const auto state = ClusterState::create({});
  state->apply_api_nodes(nodes_batch({api_node("api-a", 8 * kGi, NodeReadiness::kNotReady)}));
  state->flush();
  const auto snap = state->snapshot();
  const core::NodeRow* row = row_of(*snap, "api-a");
  ASSERT_NE(row, nullptr);
  EXPECT_EQ(row->health, core::NodeHealth::kUnhealthy);
  EXPECT_EQ(core::node_trust(*row, monotonic_now_ns(), 0), core::FitReason::kUnhealthy);
  EXPECT_FALSE(info_of(*snap, "api-a")->health_reason.empty());

  // Ready again: healthy.
  state->apply_api_nodes(nodes_batch({api_node("api-a", 8 * kGi, NodeReadiness::kReady)}));
  state->flush();
  EXPECT_EQ(row_of(*state->snapshot(), "api-a")->health, core::NodeHealth::kHealthy);
  EXPECT_TRUE(info_of(*state->snapshot(), "api-a")->health_reason.empty());
}

TEST(ClusterStateSourcesTest, NodesWithoutSgxStayOutOfTheTable) {
  const auto state = ClusterState::create({});
  state->apply_api_nodes(nodes_batch(
      {api_node("plain", std::nullopt), api_node("zero", 0), api_node("sgx", 4 * kGi)}));
  state->flush();
  auto snap = state->snapshot();
  EXPECT_EQ(snap->size(), 1u);
  EXPECT_FALSE(snap->find("plain").has_value());
  EXPECT_FALSE(snap->find("zero").has_value());
  EXPECT_TRUE(snap->find("sgx").has_value());

  // A node that stops advertising SGX (and has no plugin of ours) leaves the table.
  state->apply_api_nodes(nodes_batch({api_node("sgx", std::nullopt)}));
  state->flush();
  EXPECT_FALSE(state->snapshot()->find("sgx").has_value());
}

TEST(ClusterStateSourcesTest, ApiNodeDeletedOrMissingFromARelistLeaves) {
  const auto state = ClusterState::create({});
  state->apply_api_nodes(nodes_batch({api_node("a", 4 * kGi), api_node("b", 4 * kGi)}));
  ApiNodeBatch deleted;
  deleted.deleted.push_back("a");
  state->apply_api_nodes(std::move(deleted));
  state->flush();
  EXPECT_FALSE(state->snapshot()->find("a").has_value());
  EXPECT_TRUE(state->snapshot()->find("b").has_value());

  state->apply_api_nodes(nodes_batch({api_node("c", 4 * kGi)}, /*replace=*/true));
  state->flush();
  EXPECT_FALSE(state->snapshot()->find("b").has_value());
  EXPECT_TRUE(state->snapshot()->find("c").has_value());
}

TEST(ClusterStateSourcesTest, PluginReportWinsOverADifferentAllocatable) {
  const auto state = ClusterState::create({});
  // The API first (an API-only row), then our plugin reports another capacity.
  state->apply_api_nodes(nodes_batch({api_node("node-a", 8 * kGi)}));
  state->flush();
  ASSERT_EQ(info_of(*state->snapshot(), "node-a")->capacity_source,
            CapacitySource::kNodeAllocatable);
  ASSERT_TRUE(state->apply(report("node-a", full_state(4 * kGi))).ok());

  auto snap = state->snapshot();
  EXPECT_EQ(row_of(*snap, "node-a")->epc_capacity_bytes, 4 * kGi);
  const NodeInfo* info = info_of(*snap, "node-a");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->capacity_source, CapacitySource::kPluginReport);
  EXPECT_EQ(info->api_epc_bytes, 8 * kGi);
  EXPECT_TRUE(info->capacity_mismatch);

  // The node object agrees again.
  state->apply_api_nodes(nodes_batch({api_node("node-a", 4 * kGi)}));
  state->flush();
  snap = state->snapshot();
  EXPECT_FALSE(info_of(*snap, "node-a")->capacity_mismatch);
  EXPECT_EQ(info_of(*snap, "node-a")->api_epc_bytes, 4 * kGi);

  // Gone from the API: the plugin's row stays, without an API capacity.
  ApiNodeBatch deleted;
  deleted.deleted.push_back("node-a");
  state->apply_api_nodes(std::move(deleted));
  state->flush();
  snap = state->snapshot();
  ASSERT_TRUE(snap->find("node-a").has_value());
  EXPECT_EQ(info_of(*snap, "node-a")->api_epc_bytes, -1);
  EXPECT_EQ(row_of(*snap, "node-a")->epc_capacity_bytes, 4 * kGi);
}

TEST(ClusterStateSourcesTest, ReportFirstThenADifferentAllocatableIsAMismatch) {
  const auto state = ClusterState::create({});
  ASSERT_TRUE(state->apply(report("node-a", full_state(4 * kGi))).ok());
  state->apply_api_nodes(nodes_batch({api_node("node-a", 8 * kGi)}));
  state->flush();
  const auto snap = state->snapshot();
  EXPECT_EQ(row_of(*snap, "node-a")->epc_capacity_bytes, 4 * kGi);
  EXPECT_EQ(info_of(*snap, "node-a")->capacity_source, CapacitySource::kPluginReport);
  EXPECT_TRUE(info_of(*snap, "node-a")->capacity_mismatch);
  EXPECT_EQ(info_of(*snap, "node-a")->api_epc_bytes, 8 * kGi);
}

// ---------------------------------------------------------------------------------------------
// Readiness.

TEST(ClusterStateSourcesTest, NotReadyBeforeAnything) {
  // The very first snapshot (nothing published yet) must not claim the API lists arrived.
  ClusterState::Options options;
  options.api_configured = true;
  const auto state = ClusterState::create(options);
  EXPECT_FALSE(state->snapshot()->sources_ready());
}

TEST(ClusterStateSourcesTest, SourcesReadyWaitsForBothLists) {
  ClusterState::Options options;
  options.api_configured = true;
  const auto state = ClusterState::create(options);

  // Watch events are not a list.
  state->apply_api_pods(pods_batch({api_pod("ns/a", "uid-a", "", 64 * kMi)}));
  state->apply_api_nodes(nodes_batch({api_node("api-a", 8 * kGi)}));
  state->flush();
  EXPECT_FALSE(state->snapshot()->sources_ready());

  state->apply_api_pods(pods_batch({}, /*replace=*/true));
  state->flush();
  EXPECT_FALSE(state->snapshot()->sources_ready());  // pods listed, nodes not yet

  state->apply_api_nodes(nodes_batch({api_node("api-a", 8 * kGi)}, /*replace=*/true));
  state->flush();
  EXPECT_TRUE(state->snapshot()->sources_ready());

  // Without the API watch configured, nothing is waited for.
  const auto plain = ClusterState::create({});
  ASSERT_TRUE(plain->apply(report("node-a", full_state(4 * kGi))).ok());
  EXPECT_TRUE(plain->snapshot()->sources_ready());
}

// A bind before the lists are in would reserve on a ledger without the pods bound before this
// process started: it is refused, and the same bind goes through once both lists have come.
TEST(ClusterStateSourcesTest, NoReservationBeforeTheSourcesAreReady) {
  ClusterState::Options options;
  options.api_configured = true;
  const auto state = ClusterState::create(options);
  ASSERT_TRUE(state->apply(report("node-a", full_state(256 * kMi))).ok());
  state->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "", 64 * kMi)}));
  state->flush();
  const Reserved early = reserve(*state, bind_request("ns/p1", "uid-p1", "node-a"));
  ASSERT_FALSE(early.result.ok());
  EXPECT_THAT(early.result.error().message, ::testing::HasSubstr("not ready"));
  EXPECT_EQ(requested(*early.snapshot, "node-a"), 0);

  state->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "", 64 * kMi)}, /*replace=*/true));
  state->apply_api_nodes(nodes_batch({api_node("node-a", 256 * kMi)}, /*replace=*/true));
  state->flush();
  const Reserved later = reserve(*state, bind_request("ns/p1", "uid-p1", "node-a"));
  ASSERT_TRUE(later.result.ok()) << later.result.error().message;
  EXPECT_EQ(requested(*later.snapshot, "node-a"), 64 * kMi);
}

// ---------------------------------------------------------------------------------------------
// Pods from the API.

TEST(ClusterStateSourcesTest, BoundApiPodsMoveTheirNodesRequestedEpc) {
  const auto state = ClusterState::create({});
  ASSERT_TRUE(state->apply(report("node-a", full_state(4 * kGi))).ok());
  ASSERT_TRUE(state->apply(report("node-b", full_state(4 * kGi))).ok());
  state->apply_api_nodes(nodes_batch({api_node("api-c", 8 * kGi)}));

  state->apply_api_pods(pods_batch({api_pod("ns/x", "uid-x", "node-a", 64 * kMi),
                                    api_pod("ns/y", "uid-y", "api-c", 128 * kMi),
                                    api_pod("ns/p", "uid-p", "", 512 * kMi)}));
  state->flush();
  auto snap = state->snapshot();
  EXPECT_EQ(requested(*snap, "node-a"), 64 * kMi);
  EXPECT_EQ(requested(*snap, "node-b"), 0);
  EXPECT_EQ(requested(*snap, "api-c"), 128 * kMi);  // API-only rows count them too
  EXPECT_EQ(row_of(*snap, "api-c")->enclave_slots_used, 1);
  EXPECT_EQ(info_of(*snap, "node-a")->ledger_pods, 1);

  // MODIFIED onto another node, then deleted.
  state->apply_api_pods(pods_batch({api_pod("ns/x", "uid-x", "node-b", 64 * kMi)}));
  state->flush();
  snap = state->snapshot();
  EXPECT_EQ(requested(*snap, "node-a"), 0);
  EXPECT_EQ(requested(*snap, "node-b"), 64 * kMi);

  ApiPodBatch deleted;
  deleted.deleted_uids.push_back("uid-x");
  state->apply_api_pods(std::move(deleted));
  state->flush();
  EXPECT_EQ(requested(*state->snapshot(), "node-b"), 0);
}

TEST(ClusterStateSourcesTest, ApiPodBoundBeforeItsNodeReportedCountsOnceItDoes) {
  const auto state = ClusterState::create({});
  state->apply_api_pods(pods_batch({api_pod("ns/x", "uid-x", "node-late", 64 * kMi)}));
  state->flush();
  EXPECT_FALSE(state->snapshot()->find("node-late").has_value());
  ASSERT_TRUE(state->apply(report("node-late", full_state(4 * kGi))).ok());
  EXPECT_EQ(requested(*state->snapshot(), "node-late"), 64 * kMi);
  ASSERT_NE(state->snapshot()->pods().find("uid-x"), nullptr);
}

// ---------------------------------------------------------------------------------------------
// Reservations (bind).

class ClusterStateBindTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(state_->apply(report("node-a", full_state(256 * kMi))).ok());
    ASSERT_TRUE(state_->apply(report("node-b", full_state(256 * kMi))).ok());
    state_->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "", 128 * kMi, 5),
                                       api_pod("ns/p2", "uid-p2", "", 192 * kMi, 6),
                                       api_pod("ns/big", "uid-big", "", 512 * kMi)}));
    state_->flush();
  }

  std::unique_ptr<ClusterState> state_ = ClusterState::create({});
};

TEST_F(ClusterStateBindTest, AFittingPodIsReservedAndCountedInTheNextSnapshot) {
  const Reserved reserved = reserve(*state_, bind_request("ns/p1", "uid-p1", "node-a"));
  ASSERT_TRUE(reserved.result.ok()) << reserved.result.error().message;
  EXPECT_FALSE(reserved.result->refused.has_value());
  EXPECT_FALSE(reserved.result->already_placed);
  EXPECT_EQ(reserved.result->request.epc_bytes, 128 * kMi);
  EXPECT_EQ(requested(*reserved.snapshot, "node-a"), 128 * kMi);
  EXPECT_EQ(requested(*reserved.snapshot, "node-b"), 0);
  EXPECT_EQ(row_of(*reserved.snapshot, "node-a")->enclave_slots_used, 1);
}

TEST_F(ClusterStateBindTest, AReservationThatWouldOvercommitIsRefused) {
  ASSERT_TRUE(reserve(*state_, bind_request("ns/p1", "uid-p1", "node-a")).result.ok());
  const Reserved second = reserve(*state_, bind_request("ns/p2", "uid-p2", "node-a"));
  ASSERT_TRUE(second.result.ok()) << second.result.error().message;
  ASSERT_TRUE(second.result->refused.has_value());
  EXPECT_EQ(second.result->refused->reason, core::FitReason::kInsufficientEpc);
  EXPECT_FALSE(second.result->refused->unresolvable);
  EXPECT_EQ(second.result->refused->requested, 192 * kMi);
  EXPECT_EQ(second.result->refused->available, 128 * kMi);
  EXPECT_EQ(requested(*second.snapshot, "node-a"), 128 * kMi);  // nothing reserved

  // The other node still has room for it.
  const Reserved elsewhere = reserve(*state_, bind_request("ns/p2", "uid-p2", "node-b"));
  ASSERT_TRUE(elsewhere.result.ok());
  EXPECT_FALSE(elsewhere.result->refused.has_value());
  EXPECT_EQ(requested(*elsewhere.snapshot, "node-b"), 192 * kMi);
}

TEST_F(ClusterStateBindTest, APodLargerThanTheNodeIsRefusedAsUnresolvable) {
  const Reserved reserved = reserve(*state_, bind_request("ns/big", "uid-big", "node-a"));
  ASSERT_TRUE(reserved.result.ok());
  ASSERT_TRUE(reserved.result->refused.has_value());
  EXPECT_EQ(reserved.result->refused->reason, core::FitReason::kEpcCapacityTooSmall);
  EXPECT_TRUE(reserved.result->refused->unresolvable);
  EXPECT_EQ(requested(*reserved.snapshot, "node-a"), 0);
}

TEST_F(ClusterStateBindTest, BindsQueuedTogetherSeeEachOther) {
  // Queued back to back (likely one writer batch): the second is checked against the first's
  // reservation, not against the snapshot published before either.
  std::promise<common::Result<BindReservation>> first;
  std::promise<common::Result<BindReservation>> second;
  state_->reserve_async(bind_request("ns/p1", "uid-p1", "node-a"),
                        [&](common::Result<BindReservation> r) { first.set_value(std::move(r)); });
  state_->reserve_async(bind_request("ns/p2", "uid-p2", "node-a"),
                        [&](common::Result<BindReservation> r) { second.set_value(std::move(r)); });
  const common::Result<BindReservation> a = first.get_future().get();
  const common::Result<BindReservation> b = second.get_future().get();
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  EXPECT_FALSE(a->refused.has_value());
  ASSERT_TRUE(b->refused.has_value());
  EXPECT_EQ(b->refused->reason, core::FitReason::kInsufficientEpc);
  state_->flush();
  EXPECT_EQ(requested(*state_->snapshot(), "node-a"), 128 * kMi);
}

TEST_F(ClusterStateBindTest, AnUnknownNodeIsRefused) {
  const Reserved reserved = reserve(*state_, bind_request("ns/p1", "uid-p1", "node-unknown"));
  ASSERT_TRUE(reserved.result.ok());
  ASSERT_TRUE(reserved.result->refused.has_value());
  EXPECT_EQ(reserved.result->refused->reason, core::FitReason::kNoReport);
  EXPECT_FALSE(reserved.snapshot->find("node-unknown").has_value());
}

TEST_F(ClusterStateBindTest, AnUnknownPodIsAnError) {
  const Reserved reserved = reserve(*state_, bind_request("ns/nobody", "uid-nobody", "node-a"));
  EXPECT_FALSE(reserved.result.ok());
  EXPECT_EQ(requested(*reserved.snapshot, "node-a"), 0);

  // Another incarnation (a UID the API does not have under that name) is unknown too.
  const Reserved other = reserve(*state_, bind_request("ns/p1", "uid-old", "node-a"));
  EXPECT_FALSE(other.result.ok());
  EXPECT_EQ(requested(*other.snapshot, "node-a"), 0);
}

TEST_F(ClusterStateBindTest, APodOnlyAFilterRequestShowedCanBeReserved) {
  SchedulerObservation observation;
  observation.request = core::PodRequest{.epc_bytes = 64 * kMi, .enclave_slots = 1};
  observation.note_request = true;
  observation.pod = core::PodKey{"ns/hint", "uid-hint"};
  state_->observe(observation);
  const Reserved reserved = reserve(*state_, bind_request("ns/hint", "uid-hint", "node-a"));
  ASSERT_TRUE(reserved.result.ok()) << reserved.result.error().message;
  EXPECT_FALSE(reserved.result->refused.has_value());
  EXPECT_EQ(requested(*reserved.snapshot, "node-a"), 64 * kMi);
}

TEST_F(ClusterStateBindTest, APodTheApiBoundToThatNodeIsAlreadyPlaced) {
  state_->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "node-a", 128 * kMi)}));
  const Reserved reserved = reserve(*state_, bind_request("ns/p1", "uid-p1", "node-a"));
  ASSERT_TRUE(reserved.result.ok()) << reserved.result.error().message;
  EXPECT_TRUE(reserved.result->already_placed);
  EXPECT_FALSE(reserved.result->refused.has_value());
  EXPECT_EQ(requested(*reserved.snapshot, "node-a"), 128 * kMi);  // counted once
}

TEST_F(ClusterStateBindTest, ARetriedBindIsAlreadyPlacedAndCountedOnce) {
  ASSERT_TRUE(reserve(*state_, bind_request("ns/p1", "uid-p1", "node-a")).result.ok());
  const Reserved again = reserve(*state_, bind_request("ns/p1", "uid-p1", "node-a"));
  ASSERT_TRUE(again.result.ok());
  EXPECT_TRUE(again.result->already_placed);
  EXPECT_EQ(requested(*again.snapshot, "node-a"), 128 * kMi);
}

TEST_F(ClusterStateBindTest, APodTheApiBoundElsewhereIsAnError) {
  state_->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "node-b", 128 * kMi)}));
  const Reserved reserved = reserve(*state_, bind_request("ns/p1", "uid-p1", "node-a"));
  EXPECT_FALSE(reserved.result.ok());
  EXPECT_EQ(requested(*reserved.snapshot, "node-a"), 0);
  EXPECT_EQ(requested(*reserved.snapshot, "node-b"), 128 * kMi);
}

TEST_F(ClusterStateBindTest, CancelReservationReleasesIt) {
  ASSERT_TRUE(reserve(*state_, bind_request("ns/p1", "uid-p1", "node-a")).result.ok());
  state_->cancel_reservation(bind_request("ns/p1", "uid-p1", "node-a"));
  state_->flush();
  EXPECT_EQ(requested(*state_->snapshot(), "node-a"), 0);
  EXPECT_EQ(state_->snapshot()->pods().size(), 0u);

  // The room is free again: the larger pod fits now.
  const Reserved p2 = reserve(*state_, bind_request("ns/p2", "uid-p2", "node-a"));
  ASSERT_TRUE(p2.result.ok());
  EXPECT_FALSE(p2.result->refused.has_value());
  EXPECT_EQ(requested(*p2.snapshot, "node-a"), 192 * kMi);
}

TEST_F(ClusterStateBindTest, TheApiConfirmingAReservationCountsItOnce) {
  ASSERT_TRUE(reserve(*state_, bind_request("ns/p1", "uid-p1", "node-a")).result.ok());
  state_->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "node-a", 128 * kMi, 5)}));
  state_->flush();
  const auto snap = state_->snapshot();
  EXPECT_EQ(requested(*snap, "node-a"), 128 * kMi);
  const PodRecord* record = snap->pods().find("uid-p1");
  ASSERT_NE(record, nullptr);
  EXPECT_TRUE(record->bound);
  EXPECT_EQ(snap->pods().size(), 1u);
}

TEST_F(ClusterStateBindTest, ThePodTableListsBoundAndReservedPods) {
  state_->apply_api_pods(pods_batch({api_pod("ns/b1", "uid-b1", "node-a", 64 * kMi, 100)}));
  ASSERT_TRUE(reserve(*state_, bind_request("ns/p1", "uid-p1", "node-a")).result.ok());
  const auto snap = state_->snapshot();
  const PodTable& pods = snap->pods();
  EXPECT_EQ(pods.size(), 2u);

  const PodRecord* bound = pods.find("uid-b1");
  ASSERT_NE(bound, nullptr);
  EXPECT_EQ(bound->namespace_name, "ns/b1");
  EXPECT_EQ(bound->node, "node-a");
  EXPECT_TRUE(bound->bound);
  EXPECT_EQ(bound->priority, 100);
  EXPECT_EQ(bound->request.epc_bytes, 64 * kMi);
  EXPECT_EQ(bound->request.enclave_slots, 1);

  const PodRecord* reserved = pods.find("uid-p1");
  ASSERT_NE(reserved, nullptr);
  EXPECT_EQ(reserved->node, "node-a");
  EXPECT_FALSE(reserved->bound);
  EXPECT_EQ(reserved->priority, 5);
  EXPECT_EQ(reserved->request.epc_bytes, 128 * kMi);

  EXPECT_EQ(pods.find("uid-p2"), nullptr);  // pending, reserved nowhere
  EXPECT_EQ(pods.on_node("node-a").size(), 2u);
  EXPECT_TRUE(pods.on_node("node-b").empty());
}

// The core no-overcommit property: binds racing from several threads against one node are applied
// one after the other against everything reserved before them.
TEST(ClusterStateBindConcurrency, ConcurrentReservationsNeverExceedTheNodesCapacity) {
  constexpr std::int64_t kCapacity = 1 * kGi;
  constexpr int kThreads = 4;
  constexpr int kPodsPerThread = 24;
  const std::int64_t sizes[] = {32 * kMi, 48 * kMi, 64 * kMi, 96 * kMi};

  const auto state = ClusterState::create({});
  ASSERT_TRUE(state->apply(report("node-a", full_state(kCapacity, /*enclave_total=*/1000))).ok());
  std::vector<core::ApiPod> pending;
  for (int i = 0; i < kThreads * kPodsPerThread; ++i) {
    pending.push_back(
        api_pod("ns/p" + std::to_string(i), "uid-" + std::to_string(i), "", sizes[i % 4]));
  }
  state->apply_api_pods(pods_batch(pending, /*replace=*/true));
  state->flush();

  std::mutex mu;
  std::int64_t accepted_bytes = 0;
  int accepted = 0;
  std::vector<std::int64_t> refused_sizes;
  int errors = 0;
  int other_refusals = 0;
  std::atomic<int> answered{0};
  std::promise<void> all_answered;
  constexpr int kTotal = kThreads * kPodsPerThread;

  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      while (!go.load()) {
        std::this_thread::yield();
      }
      for (int k = 0; k < kPodsPerThread; ++k) {
        const int i = t * kPodsPerThread + k;
        const std::int64_t size = sizes[i % 4];
        state->reserve_async(
            bind_request("ns/p" + std::to_string(i), "uid-" + std::to_string(i), "node-a"),
            [&, size](common::Result<BindReservation> result) {
              {
                std::lock_guard lock(mu);
                if (!result.ok()) {
                  ++errors;
                } else if (!result->refused.has_value()) {
                  accepted_bytes += size;
                  ++accepted;
                } else if (result->refused->reason == core::FitReason::kInsufficientEpc) {
                  refused_sizes.push_back(size);
                } else {
                  ++other_refusals;
                }
              }
              if (answered.fetch_add(1) + 1 == kTotal) {
                all_answered.set_value();
              }
            });
      }
    });
  }
  go = true;
  for (auto& thread : threads) {
    thread.join();
  }
  all_answered.get_future().wait();

  std::lock_guard lock(mu);
  EXPECT_EQ(errors, 0);
  EXPECT_EQ(other_refusals, 0);
  EXPECT_LE(accepted_bytes, kCapacity);
  EXPECT_GT(accepted, 0);
  EXPECT_FALSE(refused_sizes.empty());  // Σ of all pods is far above the capacity
  // The snapshot counts exactly what was accepted.
  const auto snap = state->snapshot();
  EXPECT_EQ(requested(*snap, "node-a"), accepted_bytes);
  EXPECT_EQ(snap->pods().size(), static_cast<std::size_t>(accepted));
  // And nothing was refused that would have fitted: free EPC only shrank, so each refused pod is
  // larger than what is free at the end.
  for (const std::int64_t size : refused_sizes) {
    EXPECT_GT(size, kCapacity - accepted_bytes);
  }
}

// ---------------------------------------------------------------------------------------------
// Expiry of unconfirmed reservations.

ClusterState::Options short_ttl() {
  ClusterState::Options options;
  options.reservation_ttl_ns = 50'000'000;  // 50 ms
  return options;
}

TEST(ClusterStateReservationExpiry, AnUnconfirmedReservationExpiresWhileThePodWatchIsOpen) {
  const auto state = ClusterState::create(short_ttl());
  ASSERT_TRUE(state->apply(report("node-a", full_state(256 * kMi))).ok());
  state->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "", 128 * kMi)}, true));
  state->api_status({ApiResource::kPods, /*synced=*/true, /*watching=*/true});
  const Reserved reserved = reserve(*state, bind_request("ns/p1", "uid-p1", "node-a"));
  ASSERT_TRUE(reserved.result.ok());
  ASSERT_FALSE(reserved.result->refused.has_value());
  EXPECT_EQ(requested(*reserved.snapshot, "node-a"), 128 * kMi);
  ASSERT_NE(reserved.snapshot->pods().find("uid-p1"), nullptr);

  // Nothing is sent to the writer: its own timer must drop the reservation.
  EXPECT_TRUE(eventually(*state, [](const ClusterSnapshot& snap) {
    return snap.find("node-a") && snap.row(*snap.find("node-a")).epc_requested_bytes == 0;
  }));
  const auto after = state->snapshot();
  EXPECT_EQ(requested(*after, "node-a"), 0);
  EXPECT_EQ(after->pods().find("uid-p1"), nullptr);
}

TEST(ClusterStateReservationExpiry, AConfirmedReservationDoesNotExpire) {
  const auto state = ClusterState::create(short_ttl());
  ASSERT_TRUE(state->apply(report("node-a", full_state(256 * kMi))).ok());
  state->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "", 128 * kMi)}, true));
  state->apply_api_pods(pods_batch({api_pod("ns/p2", "uid-p2", "", 64 * kMi)}));
  state->api_status({ApiResource::kPods, true, true});
  ASSERT_FALSE(
      reserve(*state, bind_request("ns/p1", "uid-p1", "node-a")).result->refused.has_value());
  ASSERT_FALSE(
      reserve(*state, bind_request("ns/p2", "uid-p2", "node-a")).result->refused.has_value());
  state->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "node-a", 128 * kMi)}));
  state->flush();
  // p2's reservation expiring is the sign that p1's TTL (as long) has passed too.
  EXPECT_TRUE(eventually(
      *state, [](const ClusterSnapshot& snap) { return snap.pods().find("uid-p2") == nullptr; }));
  state->flush();
  EXPECT_EQ(requested(*state->snapshot(), "node-a"), 128 * kMi);
  ASSERT_NE(state->snapshot()->pods().find("uid-p1"), nullptr);
  EXPECT_TRUE(state->snapshot()->pods().find("uid-p1")->bound);
}

TEST(ClusterStateReservationExpiry, ReservationsDoNotExpireWhileThePodWatchIsDown) {
  const auto state = ClusterState::create(short_ttl());
  ASSERT_TRUE(state->apply(report("node-a", full_state(256 * kMi))).ok());
  state->apply_api_pods(pods_batch({api_pod("ns/p1", "uid-p1", "", 128 * kMi)}, true));
  state->api_status({ApiResource::kPods, /*synced=*/true, /*watching=*/false});
  const Reserved reserved = reserve(*state, bind_request("ns/p1", "uid-p1", "node-a"));
  ASSERT_TRUE(reserved.result.ok());
  ASSERT_FALSE(reserved.result->refused.has_value());

  // Proving a negative needs time to pass: four TTLs, then a message so that the writer surely
  // runs its periodic work once more.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  state->flush();
  EXPECT_EQ(requested(*state->snapshot(), "node-a"), 128 * kMi);
  ASSERT_NE(state->snapshot()->pods().find("uid-p1"), nullptr);

  // The watch reopens: the reservation gets a fresh TTL from now, then expires.
  const std::int64_t reopened_ns = monotonic_now_ns();
  state->api_status({ApiResource::kPods, true, true});
  // Not dropped at once (it would be, had its clock not restarted: its first TTL is long past):
  // it disappears no earlier than one TTL after the reopening.
  EXPECT_TRUE(eventually(
      *state, [](const ClusterSnapshot& snap) { return snap.pods().find("uid-p1") == nullptr; }));
  EXPECT_GE(monotonic_now_ns() - reopened_ns, short_ttl().reservation_ttl_ns);
  EXPECT_EQ(requested(*state->snapshot(), "node-a"), 0);
}

}  // namespace
}  // namespace epc::state
