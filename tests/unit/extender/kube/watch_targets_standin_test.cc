// CPU and memory through the whole API path: the informers (list+watch over real HTTPS on
// 127.0.0.1, against the kube-apiserver stand-in) feed the watch targets, which feed a real
// ClusterState; the snapshot's rows must show what kube-scheduler would count, through binding,
// terminal phases, deletions and a relist after 410 Gone. Every wait is a poll with a deadline.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "extender/http/codec/cpu_memory_request.h"
#include "extender/kube/informer.h"
#include "extender/kube/kube_config.h"
#include "extender/kube/rest_client.h"
#include "extender/kube/watch_targets.h"
#include "extender/state/cluster_state.h"
#include "tools/standins/api_server_standin.h"
#include "tools/standins/temp_dir.h"

namespace epc::kube {
namespace {

namespace standins = epc::tools::standins;
using namespace std::chrono_literals;

constexpr std::chrono::milliseconds kDeadline{10000};
constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kGi = std::int64_t{1} << 30;

template <typename Condition>
bool eventually(Condition condition) {
  const auto end = std::chrono::steady_clock::now() + kDeadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) {
      return false;
    }
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

struct NodeCpuMemory {
  bool known = false;
  std::int64_t cpu_allocatable = 0;
  std::int64_t memory_allocatable = 0;
  std::int64_t cpu_requested = 0;
  std::int64_t memory_requested = 0;
  friend bool operator==(const NodeCpuMemory&, const NodeCpuMemory&) = default;
};

std::string describe(const std::map<std::string, NodeCpuMemory>& nodes) {
  std::string out;
  for (const auto& [name, n] : nodes) {
    out += name + (n.known ? " known" : " unknown") + " cpu " + std::to_string(n.cpu_requested) +
           "/" + std::to_string(n.cpu_allocatable) + "m memory " +
           std::to_string(n.memory_requested) + "/" + std::to_string(n.memory_allocatable) + "; ";
  }
  return out;
}

class WatchTargetsStandinTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(dir_.status().ok()) << dir_.status().error().message;
    auto started = standins::ApiServerStandin::start();
    ASSERT_TRUE(started.ok()) << started.error().message;
    server_ = std::move(started.value());

    add_node("node-a", "8", "16Gi", "128Mi");
    add_node("node-b", "3890m", "7901588Ki", "256Mi");
    add_node("plain-1", "4", "8Gi", "");  // no SGX: never a row

    create_pod(pod("sgx-a", "node-a", {{"cpu", "500m"}, {"memory", "1Gi"}}, "64Mi"));
    create_pod(pod("web-a", "node-a", {{"cpu", "250m"}, {"memory", "512Mi"}}));
    create_pod(pod("web-b", "node-b", {{"cpu", "1"}, {"memory", "2Gi"}}));
    create_pod(pod("pending", "", {{"cpu", "100m"}, {"memory", "64Mi"}}));
    standins::PodSpec done = pod("done-b", "node-b", {{"cpu", "4"}, {"memory", "4Gi"}});
    done.phase = "Succeeded";
    create_pod(done);
    create_pod(pod("web-plain", "plain-1", {{"cpu", "2"}, {"memory", "1Gi"}}));

    state::ClusterState::Options options;
    options.api_configured = true;
    state_ = state::ClusterState::create(options);
    pod_target_ = std::make_unique<PodWatchTarget>(*state_, core::PodRequestOptions{});
    node_target_ = std::make_unique<NodeWatchTarget>(*state_, core::PodRequestOptions{});

    const std::string path = dir_.file("kubeconfig.yaml");
    ASSERT_TRUE(server_->write_kubeconfig(path, standins::KubeconfigUser::kAdminToken).ok());
    auto kube = load_kubeconfig(path);
    ASSERT_TRUE(kube.ok()) << kube.error().message;
    auto pods_client = RestClient::create(*kube, {});
    auto nodes_client = RestClient::create(*kube, {});
    ASSERT_TRUE(pods_client.ok() && nodes_client.ok());
    InformerOptions informer;
    informer.watch_timeout_s = 2;
    informer.backoff_base_ms = 50;
    informer.backoff_cap_ms = 2000;
    informer.heartbeat_ms = 100;
    informer.idle_timeout_ms = 5000;
    informer.page_size = 2;  // the pod list comes in pages
    pod_informer_ =
        std::make_unique<Informer>(std::move(pods_client.value()), *pod_target_, informer);
    informer.seed ^= 0x5bd1e995;
    node_informer_ =
        std::make_unique<Informer>(std::move(nodes_client.value()), *node_target_, informer);
    node_informer_->start();
    pod_informer_->start();
  }

  void TearDown() override {
    pod_informer_.reset();
    node_informer_.reset();
  }

  void add_node(const std::string& name, const std::string& cpu, const std::string& memory,
                const std::string& epc) {
    standins::NodeSpec spec;
    spec.name = name;
    spec.capacity = {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}};
    if (!epc.empty()) {
      spec.capacity["sgx.intel.com/epc"] = epc;
      spec.capacity["sgx.intel.com/enclave"] = "20";
    }
    ASSERT_TRUE(server_->add_node(spec).ok()) << name;
  }

  static standins::PodSpec pod(std::string name, std::string node,
                               std::map<std::string, std::string> requests, std::string epc = "") {
    standins::PodSpec spec;
    spec.name = std::move(name);
    spec.node_name = std::move(node);
    spec.extra_requests = std::move(requests);
    spec.epc = std::move(epc);
    return spec;
  }

  std::string create_pod(const standins::PodSpec& spec) {
    auto uid = server_->create_pod(spec);
    EXPECT_TRUE(uid.ok()) << spec.name << ": " << uid.error().message;
    return uid.ok() ? uid.value() : std::string();
  }

  // What kube-scheduler counts per SGX node, from the stand-in's own store: the requests of the
  // bound pods that are not Succeeded or Failed, and the node's allocatable (= capacity here).
  std::map<std::string, NodeCpuMemory> expected() const {
    std::map<std::string, NodeCpuMemory> nodes = {
        {"node-a", {true, 8000, 16 * kGi, 0, 0}},
        {"node-b", {true, 3890, std::int64_t{7901588} * 1024, 0, 0}}};
    for (const standins::PodView& p : server_->pods()) {
      auto node = nodes.find(p.node_name);
      if (node == nodes.end() || p.phase == "Succeeded" || p.phase == "Failed") {
        continue;
      }
      if (auto cpu = p.requests.find("cpu"); cpu != p.requests.end()) {
        node->second.cpu_requested += *http::codec::parse_cpu_milli(cpu->second);
      }
      if (auto memory = p.requests.find("memory"); memory != p.requests.end()) {
        node->second.memory_requested += *http::codec::parse_memory_bytes(memory->second);
      }
    }
    return nodes;
  }

  std::map<std::string, NodeCpuMemory> actual() const {
    const state::ClusterSnapshotPtr snapshot = state_->snapshot();
    std::map<std::string, NodeCpuMemory> nodes;
    for (std::uint32_t i = 0; i < snapshot->size(); ++i) {
      const core::NodeRow& row = snapshot->row(i);
      nodes[std::string(snapshot->name(i))] = NodeCpuMemory{
          row.cpu_memory_known, row.cpu_allocatable_milli, row.memory_allocatable_bytes,
          row.cpu_requested_milli, row.memory_requested_bytes};
    }
    return nodes;
  }

  ::testing::AssertionResult converges() const {
    if (eventually([&] { return state_->snapshot()->sources_ready() && expected() == actual(); })) {
      return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure()
           << "expected " << describe(expected()) << "but the state has " << describe(actual())
           << "(pod informer: " << pod_informer_->last_error() << ")";
  }

  standins::TempDir dir_{"epc-kube-cpu"};
  std::unique_ptr<standins::ApiServerStandin> server_;
  std::unique_ptr<state::ClusterState> state_;
  std::unique_ptr<PodWatchTarget> pod_target_;
  std::unique_ptr<NodeWatchTarget> node_target_;
  std::unique_ptr<Informer> pod_informer_;
  std::unique_ptr<Informer> node_informer_;
};

TEST_F(WatchTargetsStandinTest, AfterListAndWatchTheRowsKnowCpuAndMemory) {
  ASSERT_TRUE(converges());
  const std::map<std::string, NodeCpuMemory> rows = actual();
  EXPECT_EQ(rows.size(), 2u);  // plain-1 has no SGX: no row, however busy it is
  // node-a: sgx-a 500m/1Gi + web-a 250m/512Mi; node-b: web-b 1/2Gi (done-b is Succeeded).
  EXPECT_EQ(rows.at("node-a"), (NodeCpuMemory{true, 8000, 16 * kGi, 750, 1536 * kMi}));
  EXPECT_EQ(rows.at("node-b"),
            (NodeCpuMemory{true, 3890, std::int64_t{7901588} * 1024, 1000, 2 * kGi}));
  // The EPC ledger is what it always was.
  const auto snapshot = state_->snapshot();
  EXPECT_EQ(snapshot->row(*snapshot->find("node-a")).epc_requested_bytes, 64 * kMi);
}

TEST_F(WatchTargetsStandinTest, BindingTerminalPhasesAndDeletesKeepTheTotalsExact) {
  ASSERT_TRUE(converges());
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));

  // A pending pod bound through the API (a Binding POST, as the extender's binder sends it).
  const auto pending = server_->pod("default", "pending");
  ASSERT_TRUE(pending.has_value());
  const std::string path = dir_.file("kubeconfig.yaml");
  auto kube = load_kubeconfig(path);
  ASSERT_TRUE(kube.ok());
  auto binder = RestClient::create(*kube, {});
  ASSERT_TRUE(binder.ok());
  auto bound = (*binder)->post(
      "/api/v1/namespaces/default/pods/pending/binding",
      R"({"apiVersion":"v1","kind":"Binding","metadata":{"name":"pending","uid":")" + pending->uid +
          R"("},"target":{"apiVersion":"v1","kind":"Node","name":"node-b"}})");
  ASSERT_TRUE(bound.ok()) << bound.error().message;
  ASSERT_EQ(bound->status, 201u);
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual().at("node-b").cpu_requested, 1100);

  // Terminal phases release; a graceful delete does not (kube-scheduler counts terminating pods);
  // the final delete does.
  ASSERT_TRUE(server_->set_pod_phase("default", "web-a", "Failed").ok());
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual().at("node-a").cpu_requested, 500);
  ASSERT_TRUE(server_->mark_pod_terminating("default", "web-b", 30).ok());
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual().at("node-b").cpu_requested, 1100);
  ASSERT_TRUE(server_->delete_pod("default", "web-b").ok());
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual().at("node-b").cpu_requested, 100);

  // Busy non-SGX nodes move no row.
  create_pod(pod("web-plain-2", "plain-1", {{"cpu", "1"}}));
  ASSERT_TRUE(server_->delete_pod("default", "web-plain").ok());
  create_pod(pod("marker", "node-a", {{"cpu", "10m"}}));
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual().at("node-a").cpu_requested, 510);
  EXPECT_EQ(pod_informer_->lists(), 1u);
}

TEST_F(WatchTargetsStandinTest, ARelistAfter410ReplacesTheTotals) {
  ASSERT_TRUE(converges());
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  const std::uint64_t expired = pod_informer_->relists_after_expiry();

  // Cut off while the cluster moves on; the restart forgets the history, so the next watch gets
  // 410 and the informer lists again.
  ASSERT_TRUE(server_->set_down(true).ok());
  ASSERT_TRUE(server_->delete_pod("default", "web-a").ok());
  ASSERT_TRUE(server_->delete_pod("default", "web-b").ok());
  create_pod(pod("late-b", "node-b", {{"cpu", "2"}, {"memory", "3Gi"}}));
  server_->restart();
  ASSERT_TRUE(server_->set_down(false).ok());

  EXPECT_TRUE(eventually([&] { return pod_informer_->relists_after_expiry() > expired; }));
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual().at("node-a"), (NodeCpuMemory{true, 8000, 16 * kGi, 500, 1 * kGi}));
  EXPECT_EQ(actual().at("node-b").cpu_requested, 2000);
  EXPECT_EQ(actual().at("node-b").memory_requested, 3 * kGi);

  // Watching again from the relist's version.
  ASSERT_TRUE(server_->wait_for_open_watches(2, kDeadline));
  create_pod(pod("after", "node-a", {{"memory", "256Mi"}}));
  ASSERT_TRUE(converges());
  EXPECT_EQ(actual().at("node-a").memory_requested, 1280 * kMi);
}

}  // namespace
}  // namespace epc::kube
