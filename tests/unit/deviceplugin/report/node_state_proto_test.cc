#include "deviceplugin/report/node_state_proto.h"

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

TEST(NodeStateProto, CopiesEveryField) {
  epc::v1::NodeState out;
  to_proto(sgx2_node(), out);
  EXPECT_TRUE(out.sgx_present());
  EXPECT_EQ(out.epc_capacity_bytes(), 128 * kGiB);
  ASSERT_EQ(out.epc_sections_size(), 2);
  EXPECT_EQ(out.epc_sections(1).numa_node(), 1);
  EXPECT_EQ(out.epc_sections(1).size_bytes(), 64 * kGiB);
  EXPECT_EQ(out.enclave_slots().total(), 110U);
  EXPECT_EQ(out.enclave_slots().used(), 3U);
  EXPECT_EQ(out.provision_slots().used(), 1U);
  EXPECT_FALSE(out.live_epc().known());
  ASSERT_EQ(out.holders_size(), 2);
  EXPECT_EQ(out.holders(0).pod_namespace(), "sec");
  EXPECT_EQ(out.holders(0).pod_name(), "attest");
  EXPECT_EQ(out.holders(0).enclave_slots(), 2U);
  EXPECT_EQ(out.holders(0).provision_slots(), 1U);
  EXPECT_FALSE(out.holders(0).epc_known());  // PodResources says nothing about EPC
  EXPECT_TRUE(out.health().healthy());
  EXPECT_TRUE(out.health().reason().empty());
}

TEST(NodeStateProto, UnknownNumaSectionsAreLeftOutCapacityStays) {
  NodeState s = sgx2_node();
  s.epc_sections = {{-1, 64 * kGiB}, {-1, 64 * kGiB}};  // from CPUID
  epc::v1::NodeState out;
  to_proto(s, out);
  EXPECT_EQ(out.epc_sections_size(), 0);
  EXPECT_EQ(out.epc_capacity_bytes(), 128 * kGiB);
}

TEST(NodeStateProto, MoreSectionsThanTheExtenderTakesAreLeftOut) {
  NodeState s = sgx2_node();
  s.epc_sections.clear();
  for (int n = 0; n < 9; ++n) {
    s.epc_sections.push_back({n, kGiB});
  }
  epc::v1::NodeState out;
  to_proto(s, out);
  EXPECT_EQ(out.epc_sections_size(), 0);
}

TEST(NodeStateProto, LiveUseAboveCapacityIsUnknownAndUsedSlotsClamped) {
  NodeState s = sgx2_node();
  s.live_epc_known = true;
  s.live_epc_used_bytes = 200 * kGiB;  // > 128 GiB capacity
  s.enclave = {4, 9};                  // more holders than slots (a stale count)
  epc::v1::NodeState out;
  to_proto(s, out);
  EXPECT_FALSE(out.live_epc().known());
  EXPECT_EQ(out.live_epc().used_bytes(), 0U);
  EXPECT_EQ(out.enclave_slots().used(), 4U);
  s.live_epc_used_bytes = 5 * kGiB;
  to_proto(s, out);
  EXPECT_TRUE(out.live_epc().known());
  EXPECT_EQ(out.live_epc().used_bytes(), 5 * kGiB);
}

TEST(NodeStateProto, HealthReasonIsBounded) {
  NodeState s = sgx2_node();
  s.healthy = false;
  s.health_reason = std::string(2 * v1::kMaxHealthReasonBytes, 'x');
  epc::v1::NodeState out;
  to_proto(s, out);
  EXPECT_FALSE(out.health().healthy());
  EXPECT_EQ(out.health().reason().size(), v1::kMaxHealthReasonBytes);
}

}  // namespace
}  // namespace epc::deviceplugin::report
