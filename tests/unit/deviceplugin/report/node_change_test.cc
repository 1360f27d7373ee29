#include "deviceplugin/report/node_change.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace epc::deviceplugin::report {
namespace {

constexpr std::uint64_t kGiB = 1ULL << 30;

NodeState sgx2_node() {
  NodeState s;
  s.sgx_present = true;
  s.epc_capacity_bytes = 128 * kGiB;
  s.epc_sections = {{0, 64 * kGiB}, {1, 64 * kGiB}};
  s.enclave = {110, 3};
  s.provision = {110, 1};
  s.holders = {{"sec", "attest", 2, 1}, {"shop", "web", 1, 0}};
  return s;
}

std::vector<std::string> upserted_keys(const epc::v1::NodeChange& change) {
  std::vector<std::string> keys;
  for (const auto& h : change.holders_upserted()) {
    keys.push_back(h.pod_namespace() + "/" + h.pod_name());
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

TEST(NodeChangeDiff, EqualSnapshotsGiveAnEmptyChange) {
  epc::v1::NodeChange change;
  const ChangeDiff diff = diff_node_states(sgx2_node(), sgx2_node(), change);
  EXPECT_TRUE(diff.expressible);
  EXPECT_TRUE(diff.empty);
  EXPECT_EQ(change.ByteSizeLong(), 0U);
}

TEST(NodeChangeDiff, AnAllocatedPodIsAnUpsertAndTheSlotCountOnly) {
  NodeState after = sgx2_node();
  after.holders.push_back({"team", "batch", 2, 0});
  after.enclave.used = 5;
  epc::v1::NodeChange change;
  const ChangeDiff diff = diff_node_states(sgx2_node(), after, change);
  ASSERT_TRUE(diff.expressible);
  EXPECT_FALSE(diff.empty);
  EXPECT_EQ(upserted_keys(change), std::vector<std::string>{"team/batch"});
  EXPECT_EQ(change.holders_upserted(0).enclave_slots(), 2U);
  EXPECT_FALSE(change.holders_upserted(0).epc_known());
  EXPECT_EQ(change.holders_removed_size(), 0);
  ASSERT_TRUE(change.has_enclave_slots());
  EXPECT_EQ(change.enclave_slots().used(), 5U);
  EXPECT_EQ(change.enclave_slots().total(), 110U);
  EXPECT_FALSE(change.has_provision_slots());
  EXPECT_FALSE(change.has_live_epc());
  EXPECT_FALSE(change.has_health());
}

TEST(NodeChangeDiff, AFinishedPodIsARemovalAndAChangedOneAnUpsert) {
  NodeState after = sgx2_node();
  after.holders = {{"sec", "attest", 3, 1}};  // shop/web gone, sec/attest took one more slot
  after.provision.used = 0;
  epc::v1::NodeChange change;
  const ChangeDiff diff = diff_node_states(sgx2_node(), after, change);
  ASSERT_TRUE(diff.expressible);
  EXPECT_EQ(upserted_keys(change), std::vector<std::string>{"sec/attest"});
  EXPECT_EQ(change.holders_upserted(0).enclave_slots(), 3U);
  ASSERT_EQ(change.holders_removed_size(), 1);
  EXPECT_EQ(change.holders_removed(0), "shop/web");
  EXPECT_FALSE(change.has_enclave_slots());
  ASSERT_TRUE(change.has_provision_slots());
  EXPECT_EQ(change.provision_slots().used(), 0U);
}

TEST(NodeChangeDiff, LiveUseAndHealthAreSentWhenTheyChange) {
  NodeState after = sgx2_node();
  after.live_epc_known = true;
  after.live_epc_used_bytes = 5 * kGiB;
  after.healthy = false;
  after.health_reason = "/dev/sgx_enclave missing";
  epc::v1::NodeChange change;
  const ChangeDiff diff = diff_node_states(sgx2_node(), after, change);
  ASSERT_TRUE(diff.expressible);
  ASSERT_TRUE(change.has_live_epc());
  EXPECT_TRUE(change.live_epc().known());
  EXPECT_EQ(change.live_epc().used_bytes(), 5 * kGiB);
  ASSERT_TRUE(change.has_health());
  EXPECT_FALSE(change.health().healthy());
  EXPECT_EQ(change.health().reason(), "/dev/sgx_enclave missing");
  EXPECT_EQ(change.holders_upserted_size(), 0);

  // And back to unknown live use / healthy.
  epc::v1::NodeChange back;
  diff_node_states(after, sgx2_node(), back);
  ASSERT_TRUE(back.has_live_epc());
  EXPECT_FALSE(back.live_epc().known());
  ASSERT_TRUE(back.has_health());
  EXPECT_TRUE(back.health().healthy());
  EXPECT_EQ(back.health().reason(), "");
}

TEST(NodeChangeDiff, CapacityOrSectionsChangingNeedsASnapshot) {
  NodeState bigger = sgx2_node();
  bigger.epc_capacity_bytes = 192 * kGiB;
  bigger.epc_sections.push_back({2, 64 * kGiB});
  epc::v1::NodeChange change;
  EXPECT_FALSE(diff_node_states(sgx2_node(), bigger, change).expressible);

  NodeState gone = sgx2_node();
  gone.sgx_present = false;
  EXPECT_FALSE(diff_node_states(sgx2_node(), gone, change).expressible);
}

TEST(NodeChangeDiff, DifferencesHiddenByClampingAreNoChange) {
  // used above total is sent clamped to total: 120 and 130 of 110 look the same to the extender.
  NodeState before = sgx2_node();
  before.enclave.used = 120;
  NodeState after = before;
  after.enclave.used = 130;
  epc::v1::NodeChange change;
  const ChangeDiff diff = diff_node_states(before, after, change);
  EXPECT_TRUE(diff.expressible);
  EXPECT_TRUE(diff.empty);
  EXPECT_FALSE(change.has_enclave_slots());
}

}  // namespace
}  // namespace epc::deviceplugin::report
