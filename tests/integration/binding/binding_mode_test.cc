// Binding mode end to end: kube-scheduler's call pattern (filter → prioritize → concurrent bind)
// against an in-process epc-extender whose only sources are a stand-in kube-apiserver's watch and
// its own reservations. Nodes advertise EPC as Intel's stack does (allocatable sgx.intel.com/epc,
// no plugin of ours), pods ask for 512Mi or 1Gi, and the stand-in checks every binding as it
// happens: at no instant may a node hold more EPC than it has.

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/byte_format.h"
#include "tests/integration/binding/extender_under_test.h"
#include "tests/integration/binding/scheduler_player.h"
#include "tests/support/exposition.h"
#include "tests/support/time_scale.h"
#include "tools/http_client/http_client.h"

namespace epc::binding_test {
namespace {

using tools::standins::ApiServerStandin;
using tools::standins::KubeconfigUser;
using tools::standins::NodeSpec;
using tools::standins::PodSpec;

constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr std::int64_t kGi = std::int64_t{1} << 30;

// The cluster of the test: nodes, pending pods, and a ledger of what the API bound, kept by the
// stand-in's binding observer under its store lock (so "at any instant" is exact).
class BindingModeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto api = ApiServerStandin::start(ApiServerStandin::Options{});
    ASSERT_TRUE(api.ok()) << api.error().message;
    api_ = std::move(api.value());
    ASSERT_TRUE(dir_.status().ok());
    kubeconfig_ = dir_.file("kubeconfig");
    ASSERT_TRUE(api_->write_kubeconfig(kubeconfig_, KubeconfigUser::kAdminToken).ok());
    api_->set_binding_observer([this](const tools::standins::BindingRecord& binding) {
      const std::int64_t epc = epc_of_.at(binding.name);
      std::int64_t& bound = bound_epc_[binding.node_name];
      bound += epc;
      if (bound > node_capacity_) {
        ++overcommits_;
      }
      max_bound_ = std::max(max_bound_, bound);
    });
  }

  void add_nodes(int count, std::int64_t epc_bytes) {
    node_capacity_ = epc_bytes;
    for (int i = 0; i < count; ++i) {
      NodeSpec node;
      node.name = "sgx-node-" + std::to_string(i);
      node.capacity = {{"sgx.intel.com/epc", common::quantity_string(epc_bytes)},
                       {"sgx.intel.com/enclave", "110"},
                       {"cpu", "32"},
                       {"pods", "110"}};
      ASSERT_TRUE(api_->add_node(node).ok());
      nodes_.push_back(node.name);
    }
  }

  // Pending SGX pods of 512Mi or 1Gi (seeded), created in the API.
  std::vector<PlayerPod> add_pending_pods(int count, const std::string& prefix) {
    std::mt19937 random(42);
    std::vector<PlayerPod> pods;
    for (int i = 0; i < count; ++i) {
      PodSpec spec;
      spec.namespace_name = "sgx-apps";
      spec.name = prefix + std::to_string(i);
      spec.epc = random() % 2 == 0 ? "512Mi" : "1Gi";
      epc_of_[spec.name] = spec.epc == "1Gi" ? kGi : 512 * kMi;
      auto uid = api_->create_pod(spec);
      EXPECT_TRUE(uid.ok());
      pods.push_back(PlayerPod{spec.namespace_name, spec.name, uid.ok() ? *uid : "", spec.epc, 0});
    }
    return pods;
  }

  // EPC the API has bound per node, from the pods themselves (not from the observer).
  std::map<std::string, std::int64_t> api_epc_by_node() const {
    std::map<std::string, std::int64_t> out;
    for (const auto& pod : api_->pods()) {
      if (!pod.node_name.empty() && pod.phase != "Succeeded" && pod.phase != "Failed") {
        out[pod.node_name] += epc_of_.at(pod.name);
      }
    }
    return out;
  }

  // True when the extender's ledger holds exactly what the API has bound, node by node, and no
  // reservation is left unconfirmed.
  bool ledger_matches_api(ExtenderUnderTest& extender, std::string* why = nullptr) const {
    const auto snapshot = extender.state().snapshot();
    const auto want = api_epc_by_node();
    for (const std::string& node : nodes_) {
      const auto index = snapshot->find(node);
      if (!index) {
        if (why != nullptr) {
          *why = node + " missing from the snapshot";
        }
        return false;
      }
      const std::int64_t have = snapshot->row(*index).epc_requested_bytes;
      const auto it = want.find(node);
      const std::int64_t expected = it == want.end() ? 0 : it->second;
      if (have != expected) {
        if (why != nullptr) {
          *why =
              node + ": ledger " + std::to_string(have) + " bytes, API " + std::to_string(expected);
        }
        return false;
      }
    }
    for (const auto& pod : snapshot->pods().all()) {
      if (!pod.bound) {
        if (why != nullptr) {
          *why = "reservation of " + pod.namespace_name + " not confirmed";
        }
        return false;
      }
    }
    return true;
  }

  std::int64_t total_bound() const {
    std::int64_t total = 0;
    for (const auto& [node, epc] : api_epc_by_node()) {
      total += epc;
    }
    return total;
  }

  tools::standins::TempDir dir_{"epc-binding"};
  std::unique_ptr<ApiServerStandin> api_;
  std::string kubeconfig_;
  std::vector<std::string> nodes_;
  std::map<std::string, std::int64_t> epc_of_;  // written before any binding, then read-only
  std::int64_t node_capacity_ = 0;
  // Observer state (under the stand-in's lock).
  std::map<std::string, std::int64_t> bound_epc_;
  std::int64_t max_bound_ = 0;
  std::atomic<int> overcommits_{0};
};

TEST_F(BindingModeTest, burst_of_1000_pods_on_50_nodes_never_overcommits) {
  add_nodes(50, 8 * kGi);
  const auto pods = add_pending_pods(1000, "burst-");
  ExtenderUnderTest extender(*api_, kubeconfig_, {});
  ASSERT_TRUE(extender.error().empty()) << extender.error();
  ASSERT_TRUE(extender.wait_ready());

  {
    SchedulerPlayer player(extender.port(), nodes_, /*bind_threads=*/16, /*delay_every=*/7);
    player.run(pods);
    const auto stats = player.stats();
    EXPECT_EQ(stats.transport_errors, 0u) << player.last_bad_reply();
    // Demand (~750 GiB) exceeds capacity (400 GiB): the cluster fills and the rest is refused.
    EXPECT_GT(stats.bound, 400u);
    // The race is real: in-flight binds made the extender refuse some (then re-queued).
    EXPECT_GT(stats.bind_errors + stats.unschedulable, 0u);
  }

  EXPECT_EQ(overcommits_.load(), 0)
      << "a node held " << max_bound_ << " bytes of " << node_capacity_;
  EXPECT_LE(max_bound_, node_capacity_);
  // Packing: with 512Mi and 1Gi pods every 8Gi node can be filled exactly.
  EXPECT_GE(total_bound(), 50 * 8 * kGi * 95 / 100);
  std::string why;
  EXPECT_TRUE(eventually([&] { return ledger_matches_api(extender, &why); })) << why;
}

TEST_F(BindingModeTest, extender_restarted_mid_burst_converges_and_stays_safe) {
  add_nodes(10, 8 * kGi);
  const auto first = add_pending_pods(60, "early-");
  const auto second = add_pending_pods(100, "late-");
  {
    ExtenderUnderTest extender(*api_, kubeconfig_, {});
    ASSERT_TRUE(extender.error().empty()) << extender.error();
    ASSERT_TRUE(extender.wait_ready());
    SchedulerPlayer player(extender.port(), nodes_, 8, 5);
    player.run(first);
    EXPECT_GT(player.stats().bound, 50u);
  }  // stopped: everything it knew is gone

  // The restarted extender serves HTTP at once, but its lists are slow to come (a loaded
  // apiserver): until they are in, /readyz is 503 and an SGX filter or bind is refused, since
  // its ledger does not hold the 50-odd pods bound a moment ago.
  api_->set_list_delay(test_support::scaled(std::chrono::milliseconds(1500)));
  ExtenderUnderTest restarted(*api_, kubeconfig_, {});
  ASSERT_TRUE(restarted.error().empty()) << restarted.error();
  {
    tools::http_client::HttpClient client(restarted.port());
    auto ready = client.get("/readyz");
    ASSERT_TRUE(ready.ok());
    EXPECT_EQ(ready->status, 503u);
    auto filtered = client.post("/sgx/filter", filter_body(second.front(), nodes_));
    ASSERT_TRUE(filtered.ok());
    EXPECT_NE(filtered->body.find("not ready"), std::string::npos) << filtered->body;
    EXPECT_NE(filtered->body.find(R"("NodeNames":[])"), std::string::npos) << filtered->body;
    const PlayerPod& pod = second.front();
    auto bound = client.post("/sgx/bind", R"({"PodName":")" + pod.name + R"(","PodNamespace":")" +
                                              pod.namespace_name + R"(","PodUID":")" + pod.uid +
                                              R"(","Node":")" + nodes_.front() + R"("})");
    ASSERT_TRUE(bound.ok());
    EXPECT_NE(bound->body.find("not ready"), std::string::npos) << bound->body;
  }
  api_->set_list_delay(std::chrono::milliseconds(0));
  ASSERT_TRUE(restarted.wait_ready());
  // Ready means the lists are in: the ledger equals the API at once, with no report at all.
  std::string why;
  EXPECT_TRUE(ledger_matches_api(restarted, &why)) << why;
  {
    SchedulerPlayer player(restarted.port(), nodes_, 8, 5);
    player.run(second);
  }
  EXPECT_EQ(overcommits_.load(), 0) << "a node held " << max_bound_ << " bytes";
  EXPECT_GE(total_bound(), 10 * 8 * kGi * 95 / 100);
  EXPECT_TRUE(eventually([&] { return ledger_matches_api(restarted, &why); })) << why;
}

// ---------------------------------------------------------------------------------------------
// Single binds.

class SingleBindTest : public BindingModeTest {
 protected:
  void SetUp() override {
    BindingModeTest::SetUp();
    add_nodes(2, 2 * kGi);
    extender_ =
        std::make_unique<ExtenderUnderTest>(*api_, kubeconfig_, ExtenderUnderTest::Options{});
    ASSERT_TRUE(extender_->error().empty()) << extender_->error();
    ASSERT_TRUE(extender_->wait_ready());
    client_ = std::make_unique<tools::http_client::HttpClient>(extender_->port());
  }

  // kube-scheduler's filter for the pod: the extender learns its demand from it (as a hint) even
  // before the watch brings the pod.
  void filter(const PlayerPod& pod) {
    auto reply = client_->post("/sgx/filter", filter_body(pod, nodes_));
    ASSERT_TRUE(reply.ok());
    ASSERT_EQ(reply->status, 200u);
  }

  std::string bind(const PlayerPod& pod, const std::string& node) {
    const std::string body = R"({"PodName":")" + pod.name + R"(","PodNamespace":")" +
                             pod.namespace_name + R"(","PodUID":")" + pod.uid + R"(","Node":")" +
                             node + R"("})";
    auto reply = client_->post("/sgx/bind", body);
    EXPECT_TRUE(reply.ok());
    if (!reply.ok()) {
      return "transport error";
    }
    EXPECT_EQ(reply->status, 200u);
    return std::string(boost::json::parse(reply->body).as_object().at("Error").as_string());
  }

  // epc_extender_binds_total{result=...} from the extender's /metrics (counted before the reply).
  double binds(const std::string& result) {
    auto scrape = client_->get("/metrics");
    EXPECT_TRUE(scrape.ok());
    if (!scrape.ok()) {
      return -1;
    }
    return test_support::exposition_sample(scrape->body,
                                           R"(epc_extender_binds_total{result=")" + result + "\"}")
        .value_or(-1);
  }

  std::int64_t ledger_epc(const std::string& node) const {
    const auto snapshot = extender_->state().snapshot();
    return snapshot->row(*snapshot->find(node)).epc_requested_bytes;
  }

  std::unique_ptr<ExtenderUnderTest> extender_;
  std::unique_ptr<tools::http_client::HttpClient> client_;
};

TEST_F(SingleBindTest, bind_posts_the_binding_with_the_uid_and_the_watch_confirms_it) {
  const auto pods = add_pending_pods(1, "one-");
  filter(pods[0]);
  EXPECT_EQ(binds("bound"), 0);
  EXPECT_EQ(bind(pods[0], "sgx-node-0"), "");
  EXPECT_EQ(binds("bound"), 1);
  EXPECT_EQ(api_->pod_node("sgx-apps", "one-0").value_or(""), "sgx-node-0");
  std::string why;
  EXPECT_TRUE(eventually([&] { return ledger_matches_api(*extender_, &why); })) << why;
  EXPECT_EQ(ledger_epc("sgx-node-0"), epc_of_["one-0"]);
}

TEST_F(SingleBindTest, a_retried_bind_to_the_same_node_succeeds_through_409) {
  const auto pods = add_pending_pods(1, "again-");
  filter(pods[0]);
  ASSERT_EQ(bind(pods[0], "sgx-node-1"), "");
  ASSERT_TRUE(eventually([&] { return ledger_matches_api(*extender_); }));
  // kube-scheduler timed out on the first reply and binds again: the API says 409 "already
  // assigned to node sgx-node-1", which is the same node, so the bind succeeded.
  EXPECT_EQ(bind(pods[0], "sgx-node-1"), "");
  EXPECT_EQ(ledger_epc("sgx-node-1"), epc_of_["again-0"]);  // counted once
  // To another node it is an error: the pod is bound elsewhere.
  EXPECT_NE(bind(pods[0], "sgx-node-0"), "");
  EXPECT_EQ(api_->pod_node("sgx-apps", "again-0").value_or(""), "sgx-node-1");
}

TEST_F(SingleBindTest, a_failed_binding_rolls_the_reservation_back) {
  const auto pods = add_pending_pods(1, "fail-");
  filter(pods[0]);
  api_->fail_next_bindings(1, 500);
  const std::string error = bind(pods[0], "sgx-node-0");
  EXPECT_NE(error.find("HTTP 500"), std::string::npos) << error;
  EXPECT_EQ(binds("api_refused"), 1);
  EXPECT_FALSE(api_->pod_node("sgx-apps", "fail-0").has_value());
  EXPECT_TRUE(eventually([&] { return ledger_epc("sgx-node-0") == 0; }));
  EXPECT_TRUE(eventually([&] { return extender_->state().snapshot()->pods().size() == 0; }));
  // The re-queued attempt goes through.
  EXPECT_EQ(bind(pods[0], "sgx-node-0"), "");
  EXPECT_EQ(api_->pod_node("sgx-apps", "fail-0").value_or(""), "sgx-node-0");
}

TEST_F(SingleBindTest, a_bind_that_no_longer_fits_is_refused_before_any_post) {
  // Another scheduler filled sgx-node-0 (1.5Gi of 2Gi) with pods the watch brings in.
  for (int i = 0; i < 3; ++i) {
    PodSpec other;
    other.namespace_name = "other";
    other.name = "placed-elsewhere-" + std::to_string(i);
    other.epc = "512Mi";
    other.node_name = "sgx-node-0";
    epc_of_[other.name] = 512 * kMi;
    ASSERT_TRUE(api_->create_pod(other).ok());
  }
  const auto pods = add_pending_pods(4, "late-");
  ASSERT_TRUE(eventually([&] { return ledger_epc("sgx-node-0") == 3 * 512 * kMi; }))
      << "watches " << extender_->connection().pod_informer().watches() << " events "
      << extender_->connection().pod_informer().events() << " lists "
      << extender_->connection().pod_informer().lists() << " error "
      << extender_->connection().pod_informer().last_error() << " ledger "
      << ledger_epc("sgx-node-0");
  const auto bindings_before = api_->counters().binding_requests;
  // The first 1Gi pod in the list does not fit the 512Mi left.
  std::size_t big = 0;
  while (epc_of_[pods[big].name] != kGi) {
    ++big;
  }
  filter(pods[big]);
  const std::string error = bind(pods[big], "sgx-node-0");
  EXPECT_NE(error.find("no longer fits node sgx-node-0"), std::string::npos) << error;
  EXPECT_NE(error.find("insufficient free SGX EPC"), std::string::npos) << error;
  EXPECT_EQ(binds("no_fit"), 1);
  EXPECT_EQ(binds("bound"), 0);
  EXPECT_EQ(api_->counters().binding_requests, bindings_before);  // nothing was POSTed
  EXPECT_FALSE(api_->pod_node("sgx-apps", pods[big].name).has_value());
}

TEST_F(SingleBindTest, unknown_pods_and_bad_requests_get_clear_errors) {
  const PlayerPod ghost{"sgx-apps", "no-such-pod", "00000000-0000-0000-0000-000000000000", "1Gi",
                        0};
  EXPECT_NE(bind(ghost, "sgx-node-0").find("unknown to the extender"), std::string::npos);
  auto malformed = client_->post("/sgx/bind", R"({"PodName":"x","Node":)");
  ASSERT_TRUE(malformed.ok());
  EXPECT_EQ(malformed->status, 200u);
  EXPECT_NE(malformed->body.find("malformed bind request"), std::string::npos) << malformed->body;
  auto missing = client_->post("/sgx/bind", R"({"PodName":"x"})");
  ASSERT_TRUE(missing.ok());
  EXPECT_NE(missing->body.find("needs PodName, PodNamespace and Node"), std::string::npos);
  EXPECT_EQ(binds("invalid_request"), 3);
}

}  // namespace
}  // namespace epc::binding_test
