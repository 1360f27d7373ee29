#include "deviceplugin/report/node_state_keeper.h"

#include <gtest/gtest.h>

namespace epc::deviceplugin::report {
namespace {

const std::string kEnclave = "sgx.intel.com/enclave";
const std::string kProvision = "sgx.intel.com/provision";

class NodeStateKeeperTest : public ::testing::Test {
 protected:
  NodeStateKeeperTest() {
    NodeState initial;
    initial.sgx_present = true;
    initial.enclave = {110, 0};
    initial.provision = {20, 0};
    keeper_ = std::make_unique<NodeStateKeeper>(
        initial, kEnclave, kProvision, [this](const NodeState& s) { published_.push_back(s); });
  }

  std::vector<NodeState> published_;
  std::unique_ptr<NodeStateKeeper> keeper_;
};

TEST_F(NodeStateKeeperTest, HoldersSetUsedSlots) {
  // 2 + 1 enclave slots, 0 + 1 provision slots.
  keeper_->set_holders({{"a", "p1", 2, 0}, {"b", "p2", 1, 1}});
  ASSERT_EQ(published_.size(), 1U);
  EXPECT_EQ(published_[0].enclave.used, 3U);
  EXPECT_EQ(published_[0].provision.used, 1U);
  EXPECT_EQ(published_[0].holders.size(), 2U);
  // The same holders again: no change, nothing published.
  keeper_->set_holders({{"a", "p1", 2, 0}, {"b", "p2", 1, 1}});
  EXPECT_EQ(published_.size(), 1U);
  keeper_->set_holders({});
  ASSERT_EQ(published_.size(), 2U);
  EXPECT_EQ(published_[1].enclave.used, 0U);
}

TEST_F(NodeStateKeeperTest, EnclaveUnhealthyMakesTheNodeUnhealthy) {
  keeper_->set_resource_health(kEnclave, false);
  ASSERT_EQ(published_.size(), 1U);
  EXPECT_FALSE(published_[0].healthy);
  EXPECT_NE(published_[0].health_reason.find("sgx_enclave"), std::string::npos);
  keeper_->set_resource_health(kEnclave, true);
  ASSERT_EQ(published_.size(), 2U);
  EXPECT_TRUE(published_[1].healthy);
  EXPECT_TRUE(published_[1].health_reason.empty());
}

TEST_F(NodeStateKeeperTest, ProvisionUnhealthyTakesOnlyProvisionSlotsAway) {
  keeper_->set_resource_health(kProvision, false);
  ASSERT_EQ(published_.size(), 1U);
  EXPECT_TRUE(published_[0].healthy);
  EXPECT_EQ(published_[0].provision.total, 0U);
  EXPECT_EQ(published_[0].enclave.total, 110U);
  keeper_->set_resource_health(kProvision, true);
  ASSERT_EQ(published_.size(), 2U);
  EXPECT_EQ(published_[1].provision.total, 20U);
}

TEST_F(NodeStateKeeperTest, UnknownResourceIgnoredAndLiveEpcPublishedOnChange) {
  keeper_->set_resource_health("nvidia.com/gpu", false);
  EXPECT_TRUE(published_.empty());
  keeper_->set_live_epc(true, 4096);
  keeper_->set_live_epc(true, 4096);
  ASSERT_EQ(published_.size(), 1U);
  EXPECT_TRUE(published_[0].live_epc_known);
  EXPECT_EQ(published_[0].live_epc_used_bytes, 4096U);
  EXPECT_EQ(keeper_->snapshot().live_epc_used_bytes, 4096U);
}

}  // namespace
}  // namespace epc::deviceplugin::report
