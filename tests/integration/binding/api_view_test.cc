// The extender answering from the Kubernetes API's view alone, as it runs beside Intel's stack:
// nodes advertise allocatable sgx.intel.com/epc (NFD), pods were placed by kube-scheduler itself
// (counting mode) or by other schedulers, and no plugin of ours reports. filter, prioritize and
// preempt must see exactly what the API says.

#include <map>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "common/byte_format.h"
#include "tests/integration/binding/extender_under_test.h"
#include "tests/integration/binding/scheduler_player.h"
#include "tools/http_client/http_client.h"

namespace epc::binding_test {
namespace {

using tools::standins::ApiServerStandin;
using tools::standins::KubeconfigUser;
using tools::standins::NodeSpec;
using tools::standins::PodSpec;

constexpr std::int64_t kGi = std::int64_t{1} << 30;

class ApiViewTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto api = ApiServerStandin::start(ApiServerStandin::Options{});
    ASSERT_TRUE(api.ok()) << api.error().message;
    api_ = std::move(api.value());
    ASSERT_TRUE(dir_.status().ok());
    ASSERT_TRUE(api_->write_kubeconfig(dir_.file("kubeconfig"), KubeconfigUser::kAdminToken).ok());
    for (const char* name : {"sgx-a", "sgx-b", "sgx-c"}) {
      NodeSpec node;
      node.name = name;
      node.capacity = {{"sgx.intel.com/epc", "4Gi"}, {"sgx.intel.com/enclave", "20"}};
      ASSERT_TRUE(api_->add_node(node).ok());
    }
    NodeSpec plain;  // no SGX: stays out of the extender's table
    plain.name = "plain";
    plain.capacity = {{"cpu", "8"}};
    ASSERT_TRUE(api_->add_node(plain).ok());
  }

  std::string place(const std::string& name, const std::string& node, const std::string& epc,
                    int priority = 0) {
    PodSpec pod;
    pod.namespace_name = "apps";
    pod.name = name;
    pod.epc = epc;
    pod.node_name = node;
    pod.priority = priority;
    auto uid = api_->create_pod(pod);
    EXPECT_TRUE(uid.ok());
    return uid.ok() ? *uid : "";
  }

  void start_extender() {
    extender_ = std::make_unique<ExtenderUnderTest>(*api_, dir_.file("kubeconfig"),
                                                    ExtenderUnderTest::Options{});
    ASSERT_TRUE(extender_->error().empty()) << extender_->error();
    ASSERT_TRUE(extender_->wait_ready());
    client_ = std::make_unique<tools::http_client::HttpClient>(extender_->port());
  }

  std::int64_t requested(const std::string& node) const {
    const auto snapshot = extender_->state().snapshot();
    const auto index = snapshot->find(node);
    return index ? snapshot->row(*index).epc_requested_bytes : -1;
  }

  boost::json::value post(const std::string& verb, const std::string& body) {
    auto reply = client_->post("/sgx/" + verb, body);
    EXPECT_TRUE(reply.ok());
    EXPECT_EQ(reply->status, 200u);
    return boost::json::parse(reply.ok() ? reply->body : "null");
  }

  tools::standins::TempDir dir_{"epc-api-view"};
  std::unique_ptr<ApiServerStandin> api_;
  std::unique_ptr<ExtenderUnderTest> extender_;
  std::unique_ptr<tools::http_client::HttpClient> client_;
};

TEST_F(ApiViewTest, filter_and_prioritize_answer_from_node_allocatable_and_bound_pods) {
  place("a-1", "sgx-a", "3Gi");     // sgx-a: 1Gi free
  place("b-1", "sgx-b", "1Gi");     // sgx-b: 3Gi free
  place("b-done", "sgx-b", "2Gi");  // finished below: releases its EPC
  ASSERT_TRUE(api_->set_pod_phase("apps", "b-done", "Succeeded").ok());
  start_extender();
  EXPECT_EQ(requested("sgx-a"), 3 * kGi);
  EXPECT_EQ(requested("sgx-b"), 1 * kGi);
  EXPECT_EQ(requested("sgx-c"), 0);
  EXPECT_FALSE(extender_->state().snapshot()->find("plain").has_value());
  const auto snapshot = extender_->state().snapshot();
  for (std::uint32_t i = 0; i < snapshot->size(); ++i) {
    const state::NodeInfo& info = snapshot->info(i);
    EXPECT_EQ(info.capacity_source, state::CapacitySource::kNodeAllocatable) << info.name;
  }

  const PlayerPod pod{"apps", "new", "11111111-2222-3333-4444-555555555555", "2Gi", 0};
  const std::vector<std::string> nodes = {"sgx-a", "sgx-b", "sgx-c", "plain"};
  const auto filtered = post("filter", filter_body(pod, nodes)).as_object();
  std::vector<std::string> passed;
  for (const auto& name : filtered.at("NodeNames").as_array()) {
    passed.emplace_back(name.as_string());
  }
  EXPECT_EQ(passed, (std::vector<std::string>{"sgx-b", "sgx-c"}));
  EXPECT_EQ(filtered.at("FailedNodes").as_object().at("sgx-a").as_string(),
            "insufficient free SGX EPC");
  EXPECT_TRUE(filtered.at("FailedAndUnresolvableNodes").as_object().contains("plain"));

  // BestFit: the fuller node that still fits scores higher.
  std::map<std::string, std::int64_t> scores;
  const boost::json::value scored = post("prioritize", filter_body(pod, passed));
  for (const auto& entry : scored.as_array()) {
    scores[std::string(entry.as_object().at("Host").as_string())] =
        entry.as_object().at("Score").as_int64();
  }
  EXPECT_GT(scores.at("sgx-b"), scores.at("sgx-c"));

  // Live: kube-scheduler (counting mode) binds a pod; the watch brings it.
  place("c-1", "sgx-c", "3Gi");
  EXPECT_TRUE(eventually([&] { return requested("sgx-c") == 3 * kGi; }));
  const auto again = post("filter", filter_body(pod, nodes)).as_object();
  EXPECT_EQ(again.at("NodeNames").as_array().size(), 1u);  // sgx-b only
  // A node whose allocatable EPC shrinks (NFD re-labelled it) is re-read.
  ASSERT_TRUE(api_->update_node_allocatable(
                      "sgx-b", {{"sgx.intel.com/epc", "2Gi"}, {"sgx.intel.com/enclave", "20"}})
                  .ok());
  EXPECT_TRUE(eventually([&] {
    return post("filter", filter_body(pod, nodes)).as_object().at("NodeNames").as_array().empty();
  }));
}

TEST_F(ApiViewTest, azure_alias_pods_count_in_mib) {
  PodSpec azure;
  azure.namespace_name = "apps";
  azure.name = "azure-style";
  azure.node_name = "sgx-a";
  azure.enclave_slots = 0;
  azure.extra_requests = {{"kubernetes.azure.com/sgx_epc_mem_in_MiB", "10"}};
  ASSERT_TRUE(api_->create_pod(azure).ok());
  start_extender();
  EXPECT_EQ(requested("sgx-a"), 10 * (std::int64_t{1} << 20));
}

TEST_F(ApiViewTest, preempt_keeps_the_fewest_victims_the_api_says_are_there) {
  const std::string big = place("low-big", "sgx-a", "2Gi", 0);
  const std::string small_1 = place("low-small-1", "sgx-a", "1Gi", 0);
  const std::string small_2 = place("low-small-2", "sgx-a", "1Gi", 0);
  const std::string other_node = place("low-elsewhere", "sgx-b", "1Gi", 0);
  start_extender();
  ASSERT_EQ(requested("sgx-a"), 4 * kGi);

  // A 2Gi preemptor of priority 1000: kube-scheduler's dry run proposes all three on sgx-a.
  const std::string preemptor =
      R"({"Pod":{"metadata":{"name":"high","namespace":"apps","uid":"99999999-0000-0000-0000-000000000001"},)"
      R"("spec":{"priority":1000,"containers":[{"name":"app","resources":{"requests":{"sgx.intel.com/epc":"2Gi"},)"
      R"("limits":{"sgx.intel.com/epc":"2Gi"}}}]}},"NodeNameToVictims":null,"NodeNameToMetaVictims":{)"
      R"("sgx-a":{"Pods":[{"UID":")" +
      small_1 + R"("},{"UID":")" + small_2 + R"("},{"UID":")" + big +
      R"("}],"NumPDBViolations":0},"sgx-b":{"Pods":[{"UID":")" + other_node +
      R"("}],"NumPDBViolations":0}}})";
  const auto result = post("preempt", preemptor).as_object();
  const auto& victims = result.at("NodeNameToMetaVictims").as_object();
  // sgx-a: putting the two small pods back still leaves 2Gi once the big one goes: one victim.
  ASSERT_TRUE(victims.contains("sgx-a"));
  const auto& pods = victims.at("sgx-a").as_object().at("Pods").as_array();
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(pods[0].as_object().at("UID").as_string(), big);
  // sgx-b has 3Gi free already: EPC is not what blocks the pod there, the proposal passes as is.
  ASSERT_TRUE(victims.contains("sgx-b"));
  EXPECT_EQ(victims.at("sgx-b").as_object().at("Pods").as_array().size(), 1u);
}

}  // namespace
}  // namespace epc::binding_test
