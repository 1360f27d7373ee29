// The pod and node watch targets' CPU and memory: what they send the state writer (a recording
// ClusterState) and what the real writer makes of it, for lists and events written as
// kube-apiserver writes them (the recorded bodies of tests/data/kube-apiserver and lines shaped
// like them). The informer protocol around the targets is tested against the API-server stand-in
// in watch_targets_standin_test.cc.
#include "extender/kube/watch_targets.h"

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/state/cluster_state.h"
#include "tests/support/captured_api_data.h"

namespace epc::kube {
namespace {

using epc::test_support::captured;
using epc::test_support::without_newline;

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using Totals = state::NodeCpuMemoryRequested;

constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kGi = std::int64_t{1} << 30;

Totals totals(std::string node, std::int64_t cpu_milli, std::int64_t memory_bytes,
              std::int64_t pods) {
  return Totals{
      .node = std::move(node), .cpu_milli = cpu_milli, .memory_bytes = memory_bytes, .pods = pods};
}

// A v1.Pod as kube-apiserver writes it, reduced to what matters here. `node` empty: unbound (the
// key is then omitted, as Go's omitempty does); `epc` empty: no SGX resource.
std::string pod_json(const std::string& uid, const std::string& name, const std::string& node,
                     const std::string& phase, const std::string& cpu, const std::string& memory,
                     const std::string& epc = "", const std::string& rv = "300") {
  std::string requests = R"("cpu":")" + cpu + R"(","memory":")" + memory + R"(")";
  std::string limits;
  if (!epc.empty()) {
    requests += R"(,"sgx.intel.com/enclave":"1","sgx.intel.com/epc":")" + epc + R"(")";
    limits = R"("limits":{"sgx.intel.com/enclave":"1","sgx.intel.com/epc":")" + epc + R"("},)";
  }
  std::string spec = R"({"containers":[{"name":"main","image":"registry.example/app:1.0",)"
                     R"("resources":{)" +
                     limits + R"("requests":{)" + requests + R"(}}}],"restartPolicy":"Always")";
  if (!node.empty()) {
    spec += R"(,"nodeName":")" + node + R"(")";
  }
  spec += R"(,"schedulerName":"default-scheduler","priority":0})";
  return R"({"metadata":{"name":")" + name + R"(","namespace":"default","uid":")" + uid +
         R"(","resourceVersion":")" + rv + R"("},"spec":)" + spec + R"(,"status":{"phase":")" +
         phase + R"(","qosClass":"Burstable"}})";
}

std::string event(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}";
}

std::string pod_list(const std::vector<std::string>& items, const std::string& rv = "400") {
  std::string body = R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":")" + rv +
                     R"("},"items":[)";
  for (std::size_t i = 0; i < items.size(); ++i) {
    body += (i == 0 ? "" : ",") + items[i];
  }
  return body + "]}\n";
}

// A ClusterState that records the pod batches it is sent (the fake of the writer's interface).
class RecordingState final : public state::ClusterState {
 public:
  state::ClusterSnapshotPtr snapshot() const override {
    return std::make_shared<const state::ClusterSnapshot>();
  }
  void apply_async(state::ReportMessage, ApplyDone done) override { done(common::Error{"no"}); }
  void stream_closed(const std::string&, const std::string&) override {}
  void observe(state::SchedulerObservation) override {}
  void apply_api_pods(state::ApiPodBatch batch) override {
    std::lock_guard lock(mutex_);
    batches_.push_back(std::move(batch));
  }
  void apply_api_nodes(state::ApiNodeBatch) override {}
  void api_status(state::ApiSourceStatus) override {}
  void reserve_async(state::BindRequest, ReserveDone done) override { done(common::Error{"no"}); }
  void cancel_reservation(state::BindRequest) override {}
  void flush() override {}

  std::vector<state::ApiPodBatch> take() {
    std::lock_guard lock(mutex_);
    return std::exchange(batches_, {});
  }

 private:
  std::mutex mutex_;
  std::vector<state::ApiPodBatch> batches_;
};

void list(WatchTarget& target, std::vector<std::string> pages) {
  target.list_begin();
  for (std::string& page : pages) {
    auto listed = target.list_page(page);
    ASSERT_TRUE(listed.ok()) << listed.error().message;
  }
  target.list_end();
}

void watch(WatchTarget& target, const std::string& line) {
  auto outcome = target.event(line);
  ASSERT_TRUE(outcome.ok()) << outcome.error().message;
  EXPECT_TRUE(outcome->error.empty()) << outcome->error;
}

constexpr const char* kPlainUid = "0b4c2d7e-1f6a-4c0e-9a8b-3d2e1f0a9b8c";
constexpr const char* kOtherUid = "7e6d5c4b-3a29-4817-a6b5-c4d3e2f1a0b9";

// ------------------------------------------------------------------------------------------------
// The messages

TEST(PodWatchTargetMessages, TheListSendsEveryNodesTotalsWithTheSgxPods) {
  RecordingState state;
  PodWatchTarget target(state, core::PodRequestOptions{});
  list(target, {captured("list-pods-all.json")});
  std::vector<state::ApiPodBatch> batches = state.take();
  ASSERT_EQ(batches.size(), 1u);
  EXPECT_TRUE(batches[0].replace);
  EXPECT_EQ(batches[0].upserts.size(), 5u);
  // sgx-done-a (Succeeded) is not counted on node-a; the three pending pods on no node.
  EXPECT_THAT(batches[0].node_requested,
              UnorderedElementsAre(totals("node-a", 100, 0, 1), totals("node-b", 100, 64 * kMi, 1),
                                   totals("node-c", 100, 0, 1)));
}

TEST(PodWatchTargetMessages, EventsSendOnlyTheTotalsTheyMoved) {
  RecordingState state;
  PodWatchTarget target(state, core::PodRequestOptions{});
  list(target, {captured("list-pods-all.json")});
  state.take();

  // A plain pod created unbound: nothing to send (not even decoded).
  watch(target, event("ADDED", pod_json(kPlainUid, "web", "", "Pending", "1", "1Gi")));
  EXPECT_THAT(state.take(), IsEmpty());
  // Bound to node-a: node-a's new totals only, no ledger pod.
  watch(target, event("MODIFIED", pod_json(kPlainUid, "web", "node-a", "Pending", "1", "1Gi")));
  std::vector<state::ApiPodBatch> bound = state.take();
  ASSERT_EQ(bound.size(), 1u);
  EXPECT_FALSE(bound[0].replace);
  EXPECT_THAT(bound[0].upserts, IsEmpty());
  EXPECT_THAT(bound[0].deleted_uids, IsEmpty());
  EXPECT_THAT(bound[0].node_requested, ElementsAre(totals("node-a", 1100, kGi, 2)));
  // Running (a status update): nothing moved, nothing sent.
  watch(target, event("MODIFIED", pod_json(kPlainUid, "web", "node-a", "Running", "1", "1Gi")));
  EXPECT_THAT(state.take(), IsEmpty());
  // Succeeded: taken back.
  watch(target, event("MODIFIED", pod_json(kPlainUid, "web", "node-a", "Succeeded", "1", "1Gi")));
  std::vector<state::ApiPodBatch> done = state.take();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_THAT(done[0].node_requested, ElementsAre(totals("node-a", 100, 0, 1)));
  // Its DELETED afterwards: already taken back, nothing sent.
  watch(target, event("DELETED", pod_json(kPlainUid, "web", "node-a", "Succeeded", "1", "1Gi")));
  EXPECT_THAT(state.take(), IsEmpty());
}

TEST(PodWatchTargetMessages, AnSgxPodAndItsTotalsTravelTogether) {
  RecordingState state;
  PodWatchTarget target(state, core::PodRequestOptions{});
  list(target, {captured("list-pods-all.json")});
  state.take();
  const std::string bound = pod_json(kOtherUid, "enclave", "node-c", "Running", "2", "4Gi", "64Mi");
  watch(target, event("ADDED", bound));
  std::vector<state::ApiPodBatch> added = state.take();
  ASSERT_EQ(added.size(), 1u);
  ASSERT_EQ(added[0].upserts.size(), 1u);
  EXPECT_EQ(added[0].upserts[0].request,
            (core::PodRequest{64 * kMi, 1, 0, /*cpu_milli=*/2000, /*memory_bytes=*/4 * kGi}));
  EXPECT_THAT(added[0].node_requested, ElementsAre(totals("node-c", 2100, 4 * kGi, 2)));

  watch(target, event("DELETED", bound));
  std::vector<state::ApiPodBatch> deleted = state.take();
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_THAT(deleted[0].deleted_uids, ElementsAre(kOtherUid));
  EXPECT_THAT(deleted[0].node_requested, ElementsAre(totals("node-c", 100, 0, 1)));
}

TEST(PodWatchTargetMessages, ARelistAfter410ReplacesAllTotals) {
  RecordingState state;
  PodWatchTarget target(state, core::PodRequestOptions{});
  list(target, {captured("list-pods-all.json")});
  watch(target, event("ADDED", pod_json(kPlainUid, "web", "node-a", "Running", "1", "1Gi")));
  state.take();

  // The recorded ERROR event of a watch from a revision the server no longer has.
  auto expired = target.event(without_newline(captured("watch-pods-rv-too-old-410.jsonl")));
  ASSERT_TRUE(expired.ok());
  EXPECT_TRUE(expired->expired);
  EXPECT_THAT(state.take(), IsEmpty());

  // The relist, in two pages: node-b's pod and web are gone, one pod arrived on node-c. A page
  // that failed first (the informer then lists again from the start) leaves nothing behind.
  target.list_begin();
  std::string broken = R"({"kind":"PodList","items":[{"metadata":)";
  EXPECT_FALSE(target.list_page(broken).ok());
  list(target, {pod_list({pod_json("11111111-2222-4333-8444-555555555555", "a", "node-a", "Running",
                                   "100m", "0")}),
                pod_list({pod_json(kOtherUid, "c", "node-c", "Running", "250m", "512Mi")})});
  std::vector<state::ApiPodBatch> relisted = state.take();
  ASSERT_EQ(relisted.size(), 1u);
  EXPECT_TRUE(relisted[0].replace);
  EXPECT_THAT(
      relisted[0].node_requested,
      UnorderedElementsAre(totals("node-a", 100, 0, 1), totals("node-c", 250, 512 * kMi, 1)));

  // Watching again after the relist: a DELETED of a pod from before it changes nothing.
  watch(target, event("DELETED", pod_json(kPlainUid, "web", "node-a", "Running", "1", "1Gi")));
  EXPECT_THAT(state.take(), IsEmpty());
}

// ------------------------------------------------------------------------------------------------
// Through the real writer

class WatchTargetsStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state::ClusterState::Options options;
    options.api_configured = true;
    state_ = state::ClusterState::create(options);
    pods_ = std::make_unique<PodWatchTarget>(*state_, core::PodRequestOptions{});
    nodes_ = std::make_unique<NodeWatchTarget>(*state_, core::PodRequestOptions{});
  }

  core::NodeRow row(std::string_view node) {
    state_->flush();
    const state::ClusterSnapshotPtr snapshot = state_->snapshot();
    auto index = snapshot->find(node);
    EXPECT_TRUE(index.has_value()) << node;
    return index.has_value() ? snapshot->row(*index) : core::NodeRow{};
  }

  std::unique_ptr<state::ClusterState> state_;
  std::unique_ptr<PodWatchTarget> pods_;
  std::unique_ptr<NodeWatchTarget> nodes_;
};

TEST_F(WatchTargetsStateTest, RecordedListsGiveKnownRowsWithExactTotals) {
  list(*nodes_, {captured("list-nodes.json")});
  EXPECT_FALSE(row("node-a").cpu_memory_known);  // the pods are not listed yet
  list(*pods_, {captured("list-pods-all.json")});
  for (const auto& [name, cpu, memory, allocatable_cpu, allocatable_memory] :
       std::vector<std::tuple<std::string, std::int64_t, std::int64_t, std::int64_t, std::int64_t>>{
           {"node-a", 100, 0, 8000, 16 * kGi},
           {"node-b", 100, 64 * kMi, 8000, 16 * kGi},
           {"node-c", 100, 0, 4000, 8 * kGi}}) {
    const core::NodeRow r = row(name);
    EXPECT_TRUE(r.cpu_memory_known) << name;
    EXPECT_EQ(r.cpu_requested_milli, cpu) << name;
    EXPECT_EQ(r.memory_requested_bytes, memory) << name;
    EXPECT_EQ(r.cpu_allocatable_milli, allocatable_cpu) << name;
    EXPECT_EQ(r.memory_allocatable_bytes, allocatable_memory) << name;
  }
  EXPECT_EQ(row("node-a").epc_requested_bytes, 64 * kMi);  // the EPC ledger as before
  EXPECT_EQ(row("node-c").epc_requested_bytes, 16 * kMi);
}

TEST_F(WatchTargetsStateTest, RecordedWatchStreamKeepsTheTotalsExact) {
  list(*nodes_, {captured("list-nodes.json")});
  list(*pods_, {captured("list-pods-all.json")});
  // 13-watch-pods-from-list-rv: watch-demo bound to node-b then force-deleted, watch-graceful
  // created on node-b and deleted; neither requests cpu or memory, so only pod counts move and
  // node-b ends where it started.
  std::istringstream stream(captured("watch-pods-from-list-rv.jsonl"));
  for (std::string line; std::getline(stream, line);) {
    if (!line.empty()) {
      watch(*pods_, line);
    }
  }
  EXPECT_EQ(row("node-b").cpu_requested_milli, 100);
  EXPECT_EQ(row("node-b").memory_requested_bytes, 64 * kMi);
  EXPECT_EQ(row("node-b").epc_requested_bytes, 0);

  // A pod of 1.5 CPUs and 3Gi bound to node-b, then deleted.
  const std::string web = pod_json(kPlainUid, "web", "node-b", "Running", "1500m", "3Gi");
  watch(*pods_, event("ADDED", web));
  EXPECT_EQ(row("node-b").cpu_requested_milli, 1600);
  EXPECT_EQ(row("node-b").memory_requested_bytes, 3 * kGi + 64 * kMi);
  watch(*pods_, event("DELETED", web));
  EXPECT_EQ(row("node-b").cpu_requested_milli, 100);
  EXPECT_EQ(row("node-b").memory_requested_bytes, 64 * kMi);
}

TEST_F(WatchTargetsStateTest, NodeAllocatableChangesReachTheRow) {
  list(*nodes_, {captured("list-nodes.json")});
  list(*pods_, {captured("list-pods-all.json")});
  watch(*nodes_,
        event("MODIFIED",
              R"({"metadata":{"name":"node-c","resourceVersion":"260"},"spec":{},"status":)"
              R"({"allocatable":{"cpu":"3890m","memory":"7901588Ki","pods":"110",)"
              R"("sgx.intel.com/enclave":"20","sgx.intel.com/epc":"32Mi",)"
              R"("sgx.intel.com/provision":"20"}}})"));
  const core::NodeRow c = row("node-c");
  EXPECT_TRUE(c.cpu_memory_known);
  EXPECT_EQ(c.cpu_allocatable_milli, 3890);
  EXPECT_EQ(c.memory_allocatable_bytes, std::int64_t{7901588} * 1024);
  EXPECT_EQ(c.cpu_requested_milli, 100);
}

}  // namespace
}  // namespace epc::kube
