// PodResourcesClientImpl against the PodResources stand-in over a real unix socket.
#include <gtest/gtest.h>

#include "deviceplugin/kubelet/pod_resources_client_impl.h"
#include "tools/standins/pod_resources_standin.h"
#include "tools/standins/temp_dir.h"

namespace epc::deviceplugin::kubelet {
namespace {

using namespace std::chrono_literals;
using tools::standins::ListedPod;

const std::string kEnclave = "sgx.intel.com/enclave";
const std::string kProvision = "sgx.intel.com/provision";

class PodResourcesClientTest : public ::testing::Test {
 protected:
  tools::standins::TempDir dir_{"epc-podres"};
  tools::standins::PodResourcesStandin server_{dir_.file("kubelet.sock")};
  PodResourcesClientImpl client_{dir_.file("kubelet.sock"), 5000ms};
};

TEST_F(PodResourcesClientTest, ListsOnlyPodsHoldingOurResources) {
  ASSERT_TRUE(server_.start().ok());
  server_.set_pods({
      ListedPod{"web", "shop", {{"app", {{kEnclave, {"sgx-enclave-1"}}}}}},
      ListedPod{"gpu-job", "ml", {{"train", {{"nvidia.com/gpu", {"GPU-1"}}}}}},
      ListedPod{
          "attest",
          "sec",
          {{"main",
            {{kEnclave, {"sgx-enclave-2", "sgx-enclave-3"}}, {kProvision, {"sgx-provision-0"}}}},
           {"sidecar", {{kEnclave, {"sgx-enclave-4"}}}}}},
  });
  auto pods = client_.list({kEnclave, kProvision});
  ASSERT_TRUE(pods.ok()) << pods.error().message;
  ASSERT_EQ(pods->size(), 2U);
  EXPECT_EQ((*pods)[0].pod_namespace, "shop");
  EXPECT_EQ((*pods)[0].pod_name, "web");
  EXPECT_EQ((*pods)[0].devices.at(kEnclave), 1U);
  EXPECT_EQ((*pods)[0].devices.count(kProvision), 0U);
  // Two containers: 2 + 1 enclave slots, 1 provision slot.
  EXPECT_EQ((*pods)[1].pod_name, "attest");
  EXPECT_EQ((*pods)[1].devices.at(kEnclave), 3U);
  EXPECT_EQ((*pods)[1].devices.at(kProvision), 1U);
  EXPECT_EQ(server_.list_calls(), 1U);
}

TEST_F(PodResourcesClientTest, SameDeviceListedTwiceCountsOnce) {
  ASSERT_TRUE(server_.start().ok());
  server_.set_pods({ListedPod{
      "p",
      "ns",
      {{"a", {{kEnclave, {"sgx-enclave-1"}}}}, {"b", {{kEnclave, {"sgx-enclave-1"}}}}}}});
  auto pods = client_.list({kEnclave});
  ASSERT_TRUE(pods.ok());
  ASSERT_EQ(pods->size(), 1U);
  EXPECT_EQ(pods->front().devices.at(kEnclave), 1U);
}

TEST_F(PodResourcesClientTest, NoServerIsAnErrorValueAndRecoversWhenItComes) {
  auto none = client_.list({kEnclave});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("PodResources List"), std::string::npos);
  ASSERT_TRUE(server_.start().ok());
  auto empty = client_.list({kEnclave});
  ASSERT_TRUE(empty.ok()) << empty.error().message;
  EXPECT_TRUE(empty->empty());
  // A kubelet restart: a new socket at the same path.
  server_.stop();
  ASSERT_TRUE(server_.start().ok());
  server_.set_pods({ListedPod{"p", "ns", {{"a", {{kEnclave, {"sgx-enclave-9"}}}}}}});
  auto after = client_.list({kEnclave});
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(after->size(), 1U);
}

}  // namespace
}  // namespace epc::deviceplugin::kubelet
