#include "extender/core/pod_request.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::core {
namespace {

using testing_support::kMi;
constexpr std::int64_t kInt64Max = INT64_MAX;

// A container listing SGX requests only (the usual case after API defaulting).
ContainerResources req(std::int64_t epc, std::optional<std::int64_t> enclave = std::nullopt,
                       std::optional<std::int64_t> provision = std::nullopt) {
  ContainerResources c;
  c.requests.epc_bytes = epc;
  c.requests.enclave_slots = enclave;
  c.requests.provision_slots = provision;
  return c;
}

ContainerResources sidecar(std::int64_t epc) {
  ContainerResources c = req(epc);
  c.restartable = true;
  return c;
}

struct PodRequestRow {
  std::string_view name;
  std::vector<ContainerResources> containers;
  std::vector<ContainerResources> init_containers;
  SgxAmounts overhead;
  bool epc_implies_enclave_slot;
  PodRequest want;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const PodRequestRow& row, std::ostream* os) { *os << row.name; }

ContainerResources limits_only(std::int64_t epc, std::int64_t enclave) {
  ContainerResources c;
  c.limits.epc_bytes = epc;
  c.limits.enclave_slots = enclave;
  return c;
}

ContainerResources requests_and_limits(std::int64_t request_epc, std::int64_t limit_epc) {
  ContainerResources c;
  c.requests.epc_bytes = request_epc;
  c.limits.epc_bytes = limit_epc;
  return c;
}

ContainerResources nothing() { return ContainerResources{}; }

const std::vector<PodRequestRow>& rows() {
  static const std::vector<PodRequestRow> kRows = {
      // No SGX resource anywhere: 0 of everything, and nothing implied.
      {"NoSgx", {nothing()}, {}, {}, true, {0, 0, 0}},
      // One container: 512Mi + 1 slot.
      {"SingleContainer", {req(512 * kMi, 1)}, {}, {}, true, {512 * kMi, 1, 0}},
      // App containers add up: 256Mi + 128Mi = 384Mi, 1 + 1 = 2 slots.
      {"AppContainersSum", {req(256 * kMi, 1), req(128 * kMi, 1)}, {}, {}, true, {384 * kMi, 2, 0}},
      // No requests: limits count (64Mi, 1 slot).
      {"LimitsOnly", {limits_only(64 * kMi, 1)}, {}, {}, true, {64 * kMi, 1, 0}},
      // Requests win over limits: 32Mi, not 64Mi; epc > 0 and no slot -> 1 slot implied.
      {"RequestsOverLimits",
       {requests_and_limits(32 * kMi, 64 * kMi)},
       {},
       {},
       true,
       {32 * kMi, 1, 0}},
      // An explicit request of 0 is not "absent": the 64Mi limit is ignored; no EPC -> no slot.
      {"ExplicitZeroRequest", {requests_and_limits(0, 64 * kMi)}, {}, {}, true, {0, 0, 0}},
      // Init container larger than the app: max(100Mi, 300Mi) = 300Mi.
      {"InitLargerThanApp", {req(100 * kMi, 1)}, {req(300 * kMi, 1)}, {}, true, {300 * kMi, 1, 0}},
      // Init container smaller than the app: max(300Mi, 100Mi) = 300Mi.
      {"InitSmallerThanApp", {req(300 * kMi, 1)}, {req(100 * kMi, 1)}, {}, true, {300 * kMi, 1, 0}},
      // The max is per resource: EPC max(100, 300) = 300Mi, slots max(2, 1) = 2.
      {"InitMaxPerResource", {req(100 * kMi, 2)}, {req(300 * kMi, 1)}, {}, true, {300 * kMi, 2, 0}},
      // Sidecar (50Mi) started before a regular init (200Mi), app 100Mi:
      // sum = 100 + 50 = 150; init = 200 + 50 = 250; max = 250Mi.
      {"SidecarBeforeRegularInit",
       {req(100 * kMi)},
       {sidecar(50 * kMi), req(200 * kMi)},
       {},
       false,
       {250 * kMi, 0, 0}},
      // Sidecar started after the regular init: sum = 150; init = 200 + 0 = 200; max = 200Mi.
      {"SidecarAfterRegularInit",
       {req(100 * kMi)},
       {req(200 * kMi), sidecar(50 * kMi)},
       {},
       false,
       {200 * kMi, 0, 0}},
      // Only a sidecar carries EPC: it runs beside the app, sum = 0 + 64 = 64Mi.
      {"SidecarOnly", {nothing()}, {sidecar(64 * kMi)}, {}, false, {64 * kMi, 0, 0}},
      // Inits A=100 | S1=20 | B=90 | S2=30 | C=10, app 40:
      // sum = 40 + 20 + 30 = 90; A: 100 + 0, B: 90 + 20 = 110, C: 10 + 50 = 60; max = 110Mi.
      {"InterleavedSidecars",
       {req(40 * kMi)},
       {req(100 * kMi), sidecar(20 * kMi), req(90 * kMi), sidecar(30 * kMi), req(10 * kMi)},
       {},
       false,
       {110 * kMi, 0, 0}},
      // Overhead adds to the app sum: 100Mi + 10Mi = 110Mi.
      {"OverheadOnAppSum",
       {req(100 * kMi, 1)},
       {},
       {10 * kMi, std::nullopt, std::nullopt},
       true,
       {110 * kMi, 1, 0}},
      // Overhead adds after the init max: max(100, 300) + 10 = 310Mi.
      {"OverheadOnInitMax",
       {req(100 * kMi, 1)},
       {req(300 * kMi, 1)},
       {10 * kMi, std::nullopt, std::nullopt},
       true,
       {310 * kMi, 1, 0}},
      // Overhead may carry slots too: 1 + 1 = 2.
      {"OverheadSlots",
       {req(64 * kMi, 1)},
       {},
       {std::nullopt, 1, std::nullopt},
       true,
       {64 * kMi, 2, 0}},
      // EPC without a slot, option on: 1 slot implied.
      {"EpcImpliesSlotOn", {req(64 * kMi)}, {}, {}, true, {64 * kMi, 1, 0}},
      // Same pod, option off: 0 slots.
      {"EpcImpliesSlotOff", {req(64 * kMi)}, {}, {}, false, {64 * kMi, 0, 0}},
      // Explicit slots are kept: 2, not 1.
      {"ExplicitSlotsKept", {req(64 * kMi, 2)}, {}, {}, true, {64 * kMi, 2, 0}},
      // Provision only: no EPC, so no enclave slot is implied.
      {"ProvisionOnly", {req(0, std::nullopt, 1)}, {}, {}, true, {0, 0, 1}},
      // INT64_MAX + 1 saturates at INT64_MAX instead of wrapping negative.
      {"Saturates", {req(kInt64Max, 1), req(1, 1)}, {}, {}, true, {kInt64Max, 2, 0}},
      // A negative amount (rejected earlier by the codec) never lowers demand: -5 + 64Mi = 64Mi.
      {"NegativeCountsAsZero", {req(-5, 1), req(64 * kMi, 1)}, {}, {}, true, {64 * kMi, 2, 0}},
  };
  return kRows;
}

class PodRequestTest : public testing::TestWithParam<PodRequestRow> {};

TEST_P(PodRequestTest, Row) {
  const PodRequestRow& row = GetParam();
  const PodSpecResources spec{row.containers, row.init_containers, row.overhead};
  const PodRequest got = compute_pod_request(
      spec, PodRequestOptions{.epc_implies_enclave_slot = row.epc_implies_enclave_slot});
  EXPECT_EQ(got.epc_bytes, row.want.epc_bytes);
  EXPECT_EQ(got.enclave_slots, row.want.enclave_slots);
  EXPECT_EQ(got.provision_slots, row.want.provision_slots);
}

INSTANTIATE_TEST_SUITE_P(Rows, PodRequestTest, testing::ValuesIn(rows()),
                         testing_support::RowName());

TEST(PodRequestWantsSgxTest, AnyResourceCounts) {
  EXPECT_FALSE((PodRequest{0, 0, 0}.wants_sgx()));
  EXPECT_TRUE((PodRequest{1, 0, 0}.wants_sgx()));
  EXPECT_TRUE((PodRequest{0, 1, 0}.wants_sgx()));
  EXPECT_TRUE((PodRequest{0, 0, 1}.wants_sgx()));
}

}  // namespace
}  // namespace epc::core
