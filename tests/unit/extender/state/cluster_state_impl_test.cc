#include "extender/state/cluster_state_impl.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "extender/state/clock.h"

namespace epc::state {
namespace {

constexpr std::int64_t kMi = 1 << 20;

// ---------------------------------------------------------------------------------------------
// Builders.

NodeState full_state(std::int64_t capacity_bytes, std::int64_t enclave_total,
                     std::int64_t enclave_used) {
  NodeState s;
  s.sgx_present = true;
  s.epc_capacity_bytes = capacity_bytes;
  s.epc_sections = {{0, capacity_bytes}};
  s.enclave_slots = {enclave_total, enclave_used};
  s.provision_slots = {10, 0};
  return s;
}

ReportMessage message(std::string node, std::string instance, std::uint64_t sequence,
                      std::variant<NodeState, NodeChange, Heartbeat> body) {
  ReportMessage m;
  m.node_name = std::move(node);
  m.instance_id = std::move(instance);
  m.sequence = sequence;
  m.plugin_version = "test-1";
  m.body = std::move(body);
  return m;
}

core::SlotHolder holder(std::string ns_name, std::optional<std::int64_t> epc, std::int64_t slots) {
  core::SlotHolder h;
  h.pod.namespace_name = std::move(ns_name);
  h.epc_bytes = epc;
  h.enclave_slots = slots;
  return h;
}

// What filter tells the writer about a pod: its demand, for the ledger.
SchedulerObservation demand(core::PodKey pod, core::PodRequest request) {
  SchedulerObservation observation;
  observation.request = request;
  observation.note_request = true;
  observation.pod = std::move(pod);
  return observation;
}

// What prioritize adds under FragmentationAware: the pod joins the recent mix.
SchedulerObservation attempt(std::int64_t epc_bytes) {
  SchedulerObservation observation;
  observation.request = core::PodRequest{epc_bytes, 1, 0};
  observation.join_mix = true;
  return observation;
}

const core::NodeRow& row_of(const ClusterSnapshot& snapshot, std::string_view node) {
  auto index = snapshot.find(node);
  EXPECT_TRUE(index.has_value()) << node;
  return snapshot.row(index.value_or(0));
}

class ClusterStateImplTest : public ::testing::Test {
 protected:
  std::unique_ptr<ClusterState> state_ = ClusterState::create({});
};

// ---------------------------------------------------------------------------------------------

TEST_F(ClusterStateImplTest, EmptyBeforeFirstReport) {
  auto snap = state_->snapshot();
  ASSERT_NE(snap, nullptr);
  EXPECT_EQ(snap->size(), 0u);
  EXPECT_FALSE(snap->find("node-a").has_value());
}

TEST_F(ClusterStateImplTest, SnapshotMakesNodeVisible) {
  auto s = full_state(128 * kMi, 110, 2);
  s.live_epc = {true, 10 * kMi};
  auto result = state_->apply(message("node-a", "i1", 7, s));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, 7u);

  auto snap = state_->snapshot();
  ASSERT_EQ(snap->size(), 1u);
  const auto& row = row_of(*snap, "node-a");
  EXPECT_TRUE(row.ever_reported);
  EXPECT_TRUE(row.has_sgx);
  EXPECT_EQ(row.health, core::NodeHealth::kHealthy);
  EXPECT_EQ(row.epc_capacity_bytes, 128 * kMi);
  EXPECT_EQ(row.epc_section_count, 1);
  EXPECT_EQ(row.epc_section_bytes[0], 128 * kMi);
  EXPECT_TRUE(row.live_used_known);
  EXPECT_EQ(row.epc_live_used_bytes, 10 * kMi);
  EXPECT_EQ(row.enclave_slots_total, 110);
  EXPECT_EQ(row.enclave_slots_used, 2);
  EXPECT_EQ(row.provision_slots_total, 10);
  EXPECT_GT(row.report_time_ns, 0);
  EXPECT_LE(row.report_time_ns, monotonic_now_ns());
  const auto& info = snap->info(*snap->find("node-a"));
  EXPECT_EQ(info.name, "node-a");
  EXPECT_EQ(info.plugin_version, "test-1");
  EXPECT_TRUE(info.stream_connected);
}

TEST_F(ClusterStateImplTest, NodesAreIndexedByName) {
  ASSERT_TRUE(state_->apply(message("node-b", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  ASSERT_TRUE(state_->apply(message("node-a", "i2", 1, full_state(32 * kMi, 10, 0))).ok());
  auto snap = state_->snapshot();
  ASSERT_EQ(snap->size(), 2u);
  EXPECT_EQ(row_of(*snap, "node-a").epc_capacity_bytes, 32 * kMi);
  EXPECT_EQ(row_of(*snap, "node-b").epc_capacity_bytes, 64 * kMi);
  EXPECT_EQ(snap->name(*snap->find("node-b")), "node-b");
}

TEST_F(ClusterStateImplTest, ChangeBeforeSnapshotIsAnError) {
  NodeChange change;
  change.enclave_slots = SlotCount{10, 1};
  auto result = state_->apply(message("node-a", "i1", 1, change));
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(state_->snapshot()->size(), 0u);
}

TEST_F(ClusterStateImplTest, HeartbeatBeforeSnapshotIsAnError) {
  EXPECT_FALSE(state_->apply(message("node-a", "i1", 1, Heartbeat{})).ok());
  EXPECT_EQ(state_->snapshot()->size(), 0u);
}

TEST_F(ClusterStateImplTest, ChangeMergesIntoTheLastState) {
  auto s = full_state(128 * kMi, 110, 0);
  s.holders = {holder("ns/a", 16 * kMi, 1), holder("ns/b", 8 * kMi, 1)};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, s)).ok());

  NodeChange change;
  change.enclave_slots = SlotCount{110, 2};
  change.live_epc = LiveEpc{true, 30 * kMi};
  change.health = HealthInfo{false, "device gone"};
  change.holders_removed = {"ns/a"};
  change.holders_upserted = {holder("ns/b", 20 * kMi, 1), holder("ns/c", 4 * kMi, 1)};
  auto result = state_->apply(message("node-a", "i1", 2, change));
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(*result, 2u);

  auto snap = state_->snapshot();
  const auto& row = row_of(*snap, "node-a");
  EXPECT_EQ(row.epc_capacity_bytes, 128 * kMi);  // untouched by the change
  EXPECT_EQ(row.provision_slots_total, 10);      // untouched by the change
  EXPECT_EQ(row.health, core::NodeHealth::kUnhealthy);
  EXPECT_TRUE(row.live_used_known);
  EXPECT_EQ(row.epc_live_used_bytes, 30 * kMi);
  // Holders now ns/b (20Mi) + ns/c (4Mi) = 24Mi.
  EXPECT_EQ(row.epc_requested_bytes, 24 * kMi);
  EXPECT_EQ(row.enclave_slots_used, 2);
  const auto& info = snap->info(*snap->find("node-a"));
  EXPECT_EQ(info.health_reason, "device gone");
  EXPECT_EQ(info.ledger_pods, 2);
}

TEST_F(ClusterStateImplTest, HeartbeatRefreshesReportTime) {
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  const auto first = state_->snapshot();
  const std::int64_t first_time = row_of(*first, "node-a").report_time_ns;
  // Make sure the clock has moved on (no sleeping: spin until it ticks).
  while (monotonic_now_ns() <= first_time) {
  }
  auto result = state_->apply(message("node-a", "i1", 2, Heartbeat{}));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(*result, 2u);
  const auto second = state_->snapshot();
  EXPECT_GT(row_of(*second, "node-a").report_time_ns, first_time);
  EXPECT_EQ(row_of(*second, "node-a").epc_capacity_bytes, 64 * kMi);
}

TEST_F(ClusterStateImplTest, HeartbeatMovesTheTimeInPlaceWithoutPublishing) {
  // Ingest independent of the cluster's size: a heartbeat changes nothing but the report time, so
  // it is written into the published row instead of publishing a new snapshot.
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  ASSERT_TRUE(state_->apply(message("node-b", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  const auto before = state_->snapshot();
  const std::int64_t first_time = row_of(*before, "node-a").report_time_ns;
  const std::int64_t b_time = row_of(*before, "node-b").report_time_ns;
  while (monotonic_now_ns() <= first_time) {
  }
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 2, Heartbeat{})).ok());
  const auto after = state_->snapshot();
  EXPECT_EQ(after->version(), before->version());  // nothing published
  EXPECT_GT(row_of(*after, "node-a").report_time_ns, first_time);
  EXPECT_GT(row_of(*before, "node-a").report_time_ns, first_time);  // the same row, moved
  EXPECT_EQ(row_of(*after, "node-b").report_time_ns, b_time);

  // A heartbeat that also reconnects the stream (stream_connected was false) is a real change.
  state_->stream_closed("node-a", "i1");
  state_->flush();
  const auto closed = state_->snapshot();
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 3, Heartbeat{})).ok());
  const auto reconnected = state_->snapshot();
  EXPECT_GT(reconnected->version(), closed->version());
  EXPECT_TRUE(reconnected->info(*reconnected->find("node-a")).stream_connected);
}

TEST_F(ClusterStateImplTest, HeartbeatRevivesAStaleNodeForReaders) {
  // Readers holding the snapshot see the node trusted again as soon as the heartbeat is acked.
  ClusterState::Options options;
  options.stale_after_ns = 50'000'000;  // 50 ms
  auto state = ClusterState::create(options);
  ASSERT_TRUE(state->apply(message("node-a", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  const auto held = state->snapshot();
  const std::int64_t reported = row_of(*held, "node-a").report_time_ns;
  while (monotonic_now_ns() <= reported + options.stale_after_ns) {
  }
  EXPECT_FALSE(
      core::node_trusted(row_of(*held, "node-a"), monotonic_now_ns(), options.stale_after_ns));
  ASSERT_TRUE(state->apply(message("node-a", "i1", 2, Heartbeat{})).ok());
  EXPECT_TRUE(
      core::node_trusted(row_of(*held, "node-a"), monotonic_now_ns(), options.stale_after_ns));
}

TEST_F(ClusterStateImplTest, AChangeCopiesOnlyItsChunkOfTheNodeTable) {
  // 300 nodes = 5 chunks of 64. A change to one node must leave every other chunk shared between
  // the two versions (the same row objects), and the old version untouched.
  constexpr int kNodes = 300;
  for (int i = 0; i < kNodes; ++i) {
    char name[16];
    std::snprintf(name, sizeof(name), "node-%03d", i);
    ASSERT_TRUE(state_->apply(message(name, "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  }
  const auto before = state_->snapshot();
  NodeChange change;
  change.enclave_slots = SlotCount{10, 4};
  ASSERT_TRUE(state_->apply(message("node-150", "i1", 2, change)).ok());
  const auto after = state_->snapshot();
  ASSERT_GT(after->version(), before->version());
  const std::uint32_t changed = *after->find("node-150");
  EXPECT_EQ(after->row(changed).enclave_slots_used, 4);
  EXPECT_EQ(before->row(changed).enclave_slots_used, 0);
  int shared = 0;
  int copied = 0;
  for (std::uint32_t i = 0; i < after->size(); ++i) {
    const bool same_chunk = i / NodeTable::kChunkRows == changed / NodeTable::kChunkRows;
    if (&after->row(i) == &before->row(i)) {
      ++shared;
      EXPECT_FALSE(same_chunk) << i;
    } else {
      ++copied;
      EXPECT_TRUE(same_chunk) << i;
      EXPECT_EQ(after->name(i), before->name(i));
    }
  }
  EXPECT_EQ(copied, static_cast<int>(NodeTable::kChunkRows));
  EXPECT_EQ(shared, kNodes - static_cast<int>(NodeTable::kChunkRows));
  // A new node rebuilds the directory: still every node found at its (new) place.
  ASSERT_TRUE(state_->apply(message("node-000a", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  const auto grown = state_->snapshot();
  ASSERT_EQ(grown->size(), static_cast<std::size_t>(kNodes + 1));
  for (std::uint32_t i = 0; i < grown->size(); ++i) {
    EXPECT_EQ(grown->find(grown->name(i)), i);
    EXPECT_EQ(grown->info(i).name, grown->name(i));
  }
  EXPECT_EQ(grown->row(*grown->find("node-150")).enclave_slots_used, 4);
}

TEST_F(ClusterStateImplTest, OldSequenceIsAcknowledgedAndIgnored) {
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 5, full_state(64 * kMi, 10, 0))).ok());
  NodeChange change;
  change.enclave_slots = SlotCount{10, 9};
  // Same sequence: a replay.
  auto replay = state_->apply(message("node-a", "i1", 5, change));
  ASSERT_TRUE(replay.ok());
  EXPECT_EQ(*replay, 5u);
  // Older sequence.
  auto older = state_->apply(message("node-a", "i1", 3, change));
  ASSERT_TRUE(older.ok());
  EXPECT_EQ(*older, 5u);
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").enclave_slots_used, 0);
  // Newer sequence applies.
  auto newer = state_->apply(message("node-a", "i1", 6, change));
  ASSERT_TRUE(newer.ok());
  EXPECT_EQ(*newer, 6u);
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").enclave_slots_used, 9);
}

TEST_F(ClusterStateImplTest, RestartedInstanceMustStartWithSnapshot) {
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 40, full_state(64 * kMi, 10, 0))).ok());
  NodeChange change;
  change.enclave_slots = SlotCount{10, 4};
  // A change from an instance that never sent a snapshot is refused, state untouched.
  EXPECT_FALSE(state_->apply(message("node-a", "i2", 41, change)).ok());
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").enclave_slots_used, 0);
  // The new instance's snapshot resets sequence tracking (1 < 40 is fine).
  auto restarted = state_->apply(message("node-a", "i2", 1, full_state(32 * kMi, 20, 1)));
  ASSERT_TRUE(restarted.ok());
  EXPECT_EQ(*restarted, 1u);
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").epc_capacity_bytes, 32 * kMi);
  auto next = state_->apply(message("node-a", "i2", 2, change));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").enclave_slots_used, 4);
  // The old instance can no longer change the node.
  EXPECT_FALSE(state_->apply(message("node-a", "i1", 41, change)).ok());
}

TEST_F(ClusterStateImplTest, SnapshotFromSameInstanceReplacesState) {
  auto s = full_state(64 * kMi, 10, 0);
  s.holders = {holder("ns/a", 16 * kMi, 1)};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, s)).ok());
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").epc_requested_bytes, 16 * kMi);
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 2, full_state(64 * kMi, 10, 0))).ok());
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").epc_requested_bytes, 0);
}

TEST_F(ClusterStateImplTest, SchedulerRequestFillsUnknownHolderEpc) {
  auto s = full_state(128 * kMi, 110, 0);
  s.holders = {holder("ns/known", 8 * kMi, 1), holder("ns/unknown", std::nullopt, 1)};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, s)).ok());
  {
    auto snap = state_->snapshot();
    EXPECT_EQ(row_of(*snap, "node-a").epc_requested_bytes, 8 * kMi);
    EXPECT_EQ(snap->info(*snap->find("node-a")).ledger_pods_unknown_epc, 1);
  }
  state_->observe(demand(core::PodKey{"ns/unknown", ""}, core::PodRequest{32 * kMi, 1, 0}));
  state_->flush();
  auto snap = state_->snapshot();
  // 8Mi known + 32Mi from the scheduler's request.
  EXPECT_EQ(row_of(*snap, "node-a").epc_requested_bytes, 40 * kMi);
  EXPECT_EQ(snap->info(*snap->find("node-a")).ledger_pods_unknown_epc, 0);
}

// Observations never wake the writer while it polls during a burst; nothing may wait on that.
TEST_F(ClusterStateImplTest, ObservationsAlonePublishAndAReportBehindThemIsAcked) {
  auto s = full_state(128 * kMi, 110, 0);
  s.holders = {holder("ns/p0", std::nullopt, 1)};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, s)).ok());
  const auto wait_for_epc = [this](std::int64_t bytes) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (row_of(*state_->snapshot(), "node-a").epc_requested_bytes != bytes &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    return row_of(*state_->snapshot(), "node-a").epc_requested_bytes;
  };
  // The first observation wakes a sleeping writer; it is published with no flush behind it.
  state_->observe(demand(core::PodKey{"ns/p0", ""}, core::PodRequest{16 * kMi, 1, 0}));
  EXPECT_EQ(wait_for_epc(16 * kMi), 16 * kMi);
  // Now the writer polls: later ones are taken by its next poll, still without a flush.
  state_->observe(demand(core::PodKey{"ns/p0", ""}, core::PodRequest{24 * kMi, 1, 0}));
  EXPECT_EQ(wait_for_epc(24 * kMi), 24 * kMi);
  // A report queued behind observations wakes the writer (a lost wake-up would hang here).
  for (int i = 0; i < 100; ++i) {
    state_->observe(
        demand(core::PodKey{"ns/other-" + std::to_string(i), ""}, core::PodRequest{8 * kMi, 1, 0}));
  }
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 2, s)).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").epc_requested_bytes, 24 * kMi);
}

TEST_F(ClusterStateImplTest, RememberedRequestAppliesToLaterHolder) {
  state_->observe(demand(core::PodKey{"ns/p", ""}, core::PodRequest{16 * kMi, 1, 0}));
  auto s = full_state(128 * kMi, 110, 0);
  s.holders = {holder("ns/p", std::nullopt, 1)};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, s)).ok());
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").epc_requested_bytes, 16 * kMi);
}

TEST_F(ClusterStateImplTest, RepeatedNotesKeepTheLatestDemand) {
  auto s = full_state(128 * kMi, 110, 0);
  s.holders = {holder("ns/p", std::nullopt, 1)};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, s)).ok());
  const core::PodKey pod{"ns/p", "uid-1"};
  // A, A, B, then A again: repeats change nothing, and the return to A is not swallowed.
  state_->observe(demand(pod, core::PodRequest{16 * kMi, 1, 0}));
  state_->observe(demand(pod, core::PodRequest{16 * kMi, 1, 0}));
  state_->observe(demand(pod, core::PodRequest{24 * kMi, 1, 0}));
  state_->flush();
  const auto after_b = row_of(*state_->snapshot(), "node-a").epc_requested_bytes;
  state_->observe(demand(pod, core::PodRequest{16 * kMi, 1, 0}));
  state_->flush();
  const auto after_a = row_of(*state_->snapshot(), "node-a").epc_requested_bytes;
  // Scheduler requests are one source of equal rank, so the latest wins.
  EXPECT_EQ(after_b, 24 * kMi);
  EXPECT_EQ(after_a, 16 * kMi);
}

// A demand for a pod no node holds publishes no new snapshot (it is only remembered for later
// holders); a demand for a held pod moves that node's totals and leaves the others as they were.
TEST_F(ClusterStateImplTest, DemandMovesOnlyTheNodesHoldingThePod) {
  auto a = full_state(128 * kMi, 110, 0);
  a.holders = {holder("ns/p", std::nullopt, 1)};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, a)).ok());
  ASSERT_TRUE(state_->apply(message("node-b", "i1", 1, full_state(64 * kMi, 110, 0))).ok());
  const ClusterSnapshotPtr before = state_->snapshot();

  state_->observe(demand(core::PodKey{"ns/nowhere", ""}, core::PodRequest{8 * kMi, 1, 0}));
  state_->flush();
  EXPECT_EQ(state_->snapshot()->version(), before->version());

  state_->observe(demand(core::PodKey{"ns/p", ""}, core::PodRequest{16 * kMi, 1, 0}));
  state_->flush();
  const ClusterSnapshotPtr after = state_->snapshot();
  EXPECT_GT(after->version(), before->version());
  EXPECT_EQ(row_of(*after, "node-a").epc_requested_bytes, 16 * kMi);
  EXPECT_EQ(row_of(*after, "node-b").epc_requested_bytes, 0);
}

// ---------------------------------------------------------------------------------------------
// The recent pod mix (FragmentationAware).

ClusterState::Options with_mix(double half_life_pods) {
  ClusterState::Options options;
  options.keep_pod_mix = true;
  options.mix_half_life_pods = half_life_pods;
  return options;
}

TEST(ClusterStatePodMixTest, StartsEmpty) {
  const auto state = ClusterState::create(with_mix(500));
  EXPECT_TRUE(state->snapshot()->pod_mix().entries().empty());
  EXPECT_EQ(state->snapshot()->pods_in_mix(), 0u);
}

// Two attempts of 64Mi and one of 128Mi: two shapes, weights decayed by 2^(−1/500) per later pod.
TEST(ClusterStatePodMixTest, AttemptsJoinTheMixTheSnapshotCarries) {
  const auto state = ClusterState::create(with_mix(500));
  state->observe(attempt(64 * kMi));
  state->observe(attempt(64 * kMi));
  state->observe(attempt(128 * kMi));
  state->flush();
  const ClusterSnapshotPtr snap = state->snapshot();
  EXPECT_EQ(snap->pods_in_mix(), 3u);
  core::PodMix expected(500);
  expected.observe(core::PodRequest{64 * kMi, 1, 0});
  expected.observe(core::PodRequest{64 * kMi, 1, 0});
  expected.observe(core::PodRequest{128 * kMi, 1, 0});
  ASSERT_EQ(snap->pod_mix().entries().size(), expected.entries().size());
  for (std::size_t i = 0; i < expected.entries().size(); ++i) {
    EXPECT_EQ(snap->pod_mix().entries()[i].shape, expected.entries()[i].shape);
    EXPECT_DOUBLE_EQ(snap->pod_mix().entries()[i].weight, expected.entries()[i].weight);
  }
}

// Half-life 1 pod: after 64Mi then 128Mi, the 64Mi weight is halved (0.5) and 128Mi's is 1.
TEST(ClusterStatePodMixTest, FollowsTheConfiguredHalfLife) {
  const auto state = ClusterState::create(with_mix(1));
  state->observe(attempt(64 * kMi));
  state->observe(attempt(128 * kMi));
  state->flush();
  const auto entries = state->snapshot()->pod_mix().entries();
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& entry : entries) {
    EXPECT_DOUBLE_EQ(entry.weight, entry.shape.epc_bytes == 64 * kMi ? 0.5 : 1.0);
  }
}

// Pods without EPC are not part of the EPC mix, and a writer told to keep no mix keeps none.
TEST(ClusterStatePodMixTest, OnlyEpcPodsJoinAndOnlyWhenKept) {
  const auto state = ClusterState::create(with_mix(500));
  state->observe(attempt(0));
  state->flush();
  EXPECT_EQ(state->snapshot()->pods_in_mix(), 0u);

  const auto without = ClusterState::create({});
  without->observe(attempt(64 * kMi));
  without->flush();
  EXPECT_EQ(without->snapshot()->pods_in_mix(), 0u);
  EXPECT_TRUE(without->snapshot()->pod_mix().entries().empty());
}

// A batch that only moves the mix shares the node table of the snapshot before it (no row is
// rebuilt, no name copied) and does not refresh the node metrics (on_publish).
TEST(ClusterStatePodMixTest, MixOnlyPublishSharesTheNodeTable) {
  std::atomic<int> publications{0};
  ClusterState::Options options = with_mix(500);
  options.on_publish = [&publications](const ClusterSnapshot&) { ++publications; };
  const auto state = ClusterState::create(options);
  ASSERT_TRUE(state->apply(message("node-a", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  EXPECT_EQ(publications.load(), 1);
  const ClusterSnapshotPtr before = state->snapshot();
  state->observe(attempt(16 * kMi));
  state->flush();
  const ClusterSnapshotPtr after = state->snapshot();
  EXPECT_GT(after->version(), before->version());
  EXPECT_EQ(&after->nodes(), &before->nodes());
  EXPECT_EQ(after->pods_in_mix(), 1u);
  EXPECT_EQ(publications.load(), 1);
}

// HTTP threads send attempts concurrently: the writer applies every one.
TEST(ClusterStatePodMixTest, ConcurrentObserversLoseNothing) {
  const auto state = ClusterState::create(with_mix(1e6));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&state, t] {
      for (int i = 0; i < 250; ++i) {
        state->observe(attempt((t + 1) * kMi));
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  state->flush();
  EXPECT_EQ(state->snapshot()->pods_in_mix(), 1000u);
  EXPECT_EQ(state->snapshot()->pod_mix().entries().size(), 4u);
}

TEST_F(ClusterStateImplTest, SlotsUsedIsMaxOfReportAndLedger) {
  // The plugin says 1 used, but three holders hold 1 slot each: the ledger wins (3).
  auto s = full_state(128 * kMi, 110, 1);
  s.holders = {holder("ns/a", 1 * kMi, 1), holder("ns/b", 1 * kMi, 1), holder("ns/c", 1 * kMi, 1)};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, s)).ok());
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").enclave_slots_used, 3);
  // The plugin says 7 used (pods outside the ledger): the report wins (7).
  NodeChange change;
  change.enclave_slots = SlotCount{110, 7};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 2, change)).ok());
  EXPECT_EQ(row_of(*state_->snapshot(), "node-a").enclave_slots_used, 7);
}

TEST_F(ClusterStateImplTest, SectionsBeyondTheRowLimitAreClamped) {
  NodeState s = full_state(0, 10, 0);
  s.epc_sections.clear();
  for (int i = 0; i < core::kMaxEpcSections + 3; ++i) {
    s.epc_sections.push_back({i, kMi});
    s.epc_capacity_bytes += kMi;
  }
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, s)).ok());
  const auto& row = row_of(*state_->snapshot(), "node-a");
  EXPECT_EQ(row.epc_section_count, core::kMaxEpcSections);
  EXPECT_EQ(row.epc_capacity_bytes, (core::kMaxEpcSections + 3) * kMi);
}

TEST_F(ClusterStateImplTest, PublishedSnapshotsAreImmutable) {
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, full_state(64 * kMi, 10, 1))).ok());
  const ClusterSnapshotPtr old = state_->snapshot();
  const auto old_version = old->version();
  NodeChange change;
  change.enclave_slots = SlotCount{10, 5};
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 2, change)).ok());
  ASSERT_TRUE(state_->apply(message("node-b", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  const ClusterSnapshotPtr now = state_->snapshot();
  EXPECT_GT(now->version(), old_version);
  EXPECT_EQ(old->version(), old_version);
  EXPECT_EQ(old->size(), 1u);
  EXPECT_FALSE(old->find("node-b").has_value());
  EXPECT_EQ(row_of(*old, "node-a").enclave_slots_used, 1);
  EXPECT_EQ(row_of(*now, "node-a").enclave_slots_used, 5);
}

TEST_F(ClusterStateImplTest, StreamClosedMarksOnlyTheOwningInstance) {
  ASSERT_TRUE(state_->apply(message("node-a", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  ASSERT_TRUE(state_->apply(message("node-a", "i2", 1, full_state(64 * kMi, 10, 0))).ok());
  // The replaced instance's stream ends late: the node stays connected.
  state_->stream_closed("node-a", "i1");
  state_->flush();
  {
    auto snap = state_->snapshot();
    EXPECT_TRUE(snap->info(*snap->find("node-a")).stream_connected);
  }
  state_->stream_closed("node-a", "i2");
  state_->flush();
  auto snap = state_->snapshot();
  EXPECT_FALSE(snap->info(*snap->find("node-a")).stream_connected);
  // The node keeps its last state; it goes stale by age only.
  EXPECT_EQ(row_of(*snap, "node-a").epc_capacity_bytes, 64 * kMi);
  // The next message of the same instance reconnects it.
  ASSERT_TRUE(state_->apply(message("node-a", "i2", 2, Heartbeat{})).ok());
  auto again = state_->snapshot();
  EXPECT_TRUE(again->info(*again->find("node-a")).stream_connected);
}

TEST(ClusterStateImplCallbacks, OnPublishSeesTheNewSnapshot) {
  std::mutex mu;
  std::vector<std::size_t> sizes;
  ClusterState::Options options;
  options.on_publish = [&](const ClusterSnapshot& snap) {
    std::lock_guard lock(mu);
    sizes.push_back(snap.size());
  };
  auto state = ClusterState::create(std::move(options));
  ASSERT_TRUE(state->apply(message("node-a", "i1", 1, full_state(64 * kMi, 10, 0))).ok());
  state->flush();
  std::lock_guard lock(mu);
  ASSERT_FALSE(sizes.empty());
  EXPECT_EQ(sizes.back(), 1u);
}

TEST(ClusterStateImplCallbacks, DoneRunsAfterPublication) {
  auto state = ClusterState::create({});
  std::atomic<bool> visible{false};
  std::promise<void> called;
  state->apply_async(message("node-a", "i1", 1, full_state(64 * kMi, 10, 0)),
                     [&](common::Result<std::uint64_t> result) {
                       EXPECT_TRUE(result.ok());
                       visible = state->snapshot()->find("node-a").has_value();
                       called.set_value();
                     });
  called.get_future().wait();
  EXPECT_TRUE(visible.load());
}

TEST(ClusterStateImplConcurrency, ReadersSeeConsistentSnapshotsWhileWriting) {
  auto state = ClusterState::create({});
  ASSERT_TRUE(state->apply(message("node-a", "i1", 1, full_state(64 * kMi, 100, 0))).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&] {
      std::uint64_t last_version = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        auto snap = state->snapshot();
        if (snap->version() < last_version) {
          ++failures;
        }
        last_version = snap->version();
        auto index = snap->find("node-a");
        if (!index) {
          ++failures;
          continue;
        }
        const auto& row = snap->row(*index);
        // Every published change keeps used == requested / 1Mi (see the writer loop below).
        if (row.enclave_slots_used * kMi != row.epc_live_used_bytes) {
          ++failures;
        }
      }
    });
  }
  std::atomic<int> acked{0};
  for (std::uint64_t seq = 2; seq < 300; ++seq) {
    NodeChange change;
    const auto used = static_cast<std::int64_t>(seq % 100);
    change.enclave_slots = SlotCount{100, used};
    change.live_epc = LiveEpc{true, used * kMi};
    state->apply_async(message("node-a", "i1", seq, change),
                       [&](common::Result<std::uint64_t> result) {
                         if (result.ok()) {
                           ++acked;
                         }
                       });
  }
  state->flush();
  stop = true;
  for (auto& t : readers) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(acked.load(), 298);
  EXPECT_EQ(row_of(*state->snapshot(), "node-a").enclave_slots_used, 299 % 100);
}

TEST(ClusterStateImplShutdown, DestructorAnswersEveryPendingCallback) {
  std::atomic<int> answered{0};
  {
    auto state = ClusterState::create({});
    for (std::uint64_t seq = 1; seq <= 500; ++seq) {
      state->apply_async(
          message("node-" + std::to_string(seq % 7), "i1", seq, full_state(64 * kMi, 10, 0)),
          [&](common::Result<std::uint64_t>) { ++answered; });
    }
    state->observe(demand(core::PodKey{"ns/p", ""}, core::PodRequest{kMi, 1, 0}));
  }
  // Each callback ran exactly once: applied before shutdown or failed by the destructor.
  EXPECT_EQ(answered.load(), 500);
}

TEST(ClusterStateImplShutdown, ApplyDuringShutdownIsRefusedNotLost) {
  std::atomic<int> answered{0};
  {
    auto state = ClusterState::create({});
    ClusterState* raw = state.get();
    // The callback queues more work from the writer thread while the destructor may be running.
    state->apply_async(message("node-a", "i1", 1, full_state(64 * kMi, 10, 0)),
                       [&answered, raw](common::Result<std::uint64_t>) {
                         ++answered;
                         raw->apply_async(message("node-a", "i1", 2, Heartbeat{}),
                                          [&](common::Result<std::uint64_t>) { ++answered; });
                       });
  }
  EXPECT_EQ(answered.load(), 2);
}

}  // namespace
}  // namespace epc::state
