#include "extender/core/preemption.h"

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::core {
namespace {

using testing_support::kMi;
using testing_support::kSecondNs;
using testing_support::NodeBuilder;
using testing_support::pod;

constexpr std::int64_t kNowNs = 1000 * kSecondNs;
constexpr std::int64_t kStaleAfterNs = 30 * kSecondNs;

// A healthy node reported 1 s ago with 256Mi EPC of which `requested_mi` is requested, 10 enclave
// slots (2 used) and 2 provision slots (none used).
NodeBuilder node(std::int64_t requested_mi) {
  return NodeBuilder()
      .epc(256 * kMi, requested_mi * kMi)
      .enclave_slots(10, 2)
      .provision_slots(2, 0)
      .reported_at(kNowNs - kSecondNs);
}

VictimCandidate sgx(std::int32_t priority, std::int64_t epc_mi, std::int64_t enclave_slots = 1,
                    std::int64_t provision_slots = 0) {
  return VictimCandidate{.sgx = true,
                         .priority = priority,
                         .release = pod(epc_mi * kMi, enclave_slots, provision_slots)};
}

// A pod kube-scheduler chose for its own resources. Its `release` is set to show it is ignored.
VictimCandidate other(std::int32_t priority) {
  return VictimCandidate{.sgx = false, .priority = priority, .release = pod(1024 * kMi, 10, 2)};
}

struct PreemptRow {
  std::string_view name;
  NodeRow node;
  std::int64_t headroom_bytes;
  PodRequest preemptor;
  std::vector<VictimCandidate> candidates;
  bool keep_node;
  std::vector<std::size_t> kept;
};

void PrintTo(const PreemptRow& row, std::ostream* os) { *os << row.name; }

constexpr bool kKeep = true;
constexpr bool kDrop = false;

const PreemptRow kRows[] = {
    // Free 256 − 224 = 32 < 64; evicting the 64Mi victim gives 96 ≥ 64.
    {"OneVictimEnough", node(224), 0, pod(64 * kMi, 1), {sgx(5, 64)}, kKeep, {0}},
    // Proposal in kube order (prio 20 then 10). Reprieve visits prio 20 first: without it
    // 32 + 64 = 96 ≥ 64, put back; without the prio 10 one as well, 32 < 64: it stays.
    {"ReprieveKeepsOnlyTheLowerPriorityVictim",
     node(224),
     0,
     pod(64 * kMi, 1),
     {sgx(20, 128), sgx(10, 64)},
     kKeep,
     {1}},
    // Free 32, wants 128. All: 32 + 64 + 64 + 16 = 176. Reprieve: prio 10 (16Mi) → 160 ≥ 128,
    // back; prio 5 (64Mi) → 96 < 128, stays; prio 1 (64Mi) → 96 < 128, stays.
    {"TwoNeeded",
     node(224),
     0,
     pod(128 * kMi, 1),
     {sgx(5, 64), sgx(1, 64), sgx(10, 16)},
     kKeep,
     {0, 1}},
    // Free 32, wants 128; everything evicted: 32 + 32 + 32 = 96 < 128.
    {"NoneHelps", node(224), 0, pod(128 * kMi, 1), {sgx(5, 32), sgx(1, 32)}, kDrop, {}},
    // Lowest priority listed first. Reprieve visits prio 100 first: without it 32 + 64 = 96 ≥ 64,
    // back; the prio 1 victim then cannot go back (32 < 64). Reprieving in list order would
    // wrongly keep the prio 100 one.
    {"OutOfOrderProposalKeepsTheLowestPriority",
     node(224),
     0,
     pod(64 * kMi, 1),
     {sgx(1, 64), sgx(100, 64)},
     kKeep,
     {0}},
    // Equal priority: the earlier one is visited (and put back) first; the later one stays.
    {"EqualPriorityEarlierIsReprievedFirst",
     node(224),
     0,
     pod(64 * kMi, 1),
     {sgx(7, 64), sgx(7, 64)},
     kKeep,
     {1}},
    // A victim that frees nothing is reprieved even at the lowest priority: 32 + 64 without it.
    {"VictimThatFreesNothingIsReprieved",
     node(224),
     0,
     pod(64 * kMi, 1),
     {sgx(1, 0, 0), sgx(10, 64)},
     kKeep,
     {1}},
    // No proposal and EPC is the blocker (32 < 64): nothing to evict.
    {"EmptyProposalEpcBlocked", node(224), 0, pod(64 * kMi, 1), {}, kDrop, {}},
    // No proposal and the pod fits already (224 ≥ 64): a returned node needs a victim.
    {"EmptyProposalFitsAlready", node(32), 0, pod(64 * kMi, 1), {}, kDrop, {}},
    // Free 224 ≥ 64 and 8 slots free: EPC is not the blocker, kube-scheduler's own victims stand.
    {"NonSgxVictimsKeptWhenEpcIsNotTheBlocker",
     node(32),
     0,
     pod(64 * kMi, 1),
     {other(3), other(1)},
     kKeep,
     {0, 1}},
    // The same for SGX victims: fits already, so nothing is reprieved by our numbers.
    {"SgxVictimsKeptAsProposedWhenEpcIsNotTheBlocker",
     node(32),
     0,
     pod(64 * kMi, 1),
     {sgx(9, 64), other(1), sgx(1, 16)},
     kKeep,
     {0, 1, 2}},
    // Free 32 < 64 and only non-SGX victims, which free nothing we count (their 1Gi is ignored).
    {"OnlyNonSgxVictimsWhenEpcIsTheBlocker",
     node(224),
     0,
     pod(64 * kMi, 1),
     {other(3), other(1)},
     kDrop,
     {}},
    // Non-SGX victims are kept beside the SGX ones the reprieve leaves: prio 9 (64Mi) goes back
    // (32 + 64 = 96 ≥ 64), prio 1 (64Mi) stays; the non-SGX one stays as proposed.
    {"NonSgxVictimsKeptBesideTheSgxOnes",
     node(224),
     0,
     pod(64 * kMi, 1),
     {sgx(9, 64), other(5), sgx(1, 64)},
     kKeep,
     {1, 2}},
    // Age 31 s > 30 s: the victims would help (32 + 64 ≥ 64), but the numbers are not trusted.
    {"StaleNodeDropped",
     node(224).reported_at(kNowNs - 31 * kSecondNs),
     0,
     pod(64 * kMi, 1),
     {sgx(1, 64)},
     kDrop,
     {}},
    // Untrusted even when EPC is not the blocker (free 224): the node is dropped, not kept.
    {"UnhealthyNodeDropped", node(32).unhealthy(), 0, pod(64 * kMi, 1), {sgx(1, 64)}, kDrop, {}},
    {"NeverReportedNodeDropped",
     node(32).never_reported(),
     0,
     pod(64 * kMi, 1),
     {other(1)},
     kDrop,
     {}},
    {"NoSgxNodeDropped", node(32).no_sgx(), 0, pod(64 * kMi, 1), {other(1)}, kDrop, {}},
    // A preemptor without SGX demand fits everywhere (as in filter), even on a node without SGX:
    // kube-scheduler's victims stand.
    {"PreemptorWithoutSgxKeepsTheProposal",
     node(224).no_sgx(),
     0,
     pod(0),
     {other(1), sgx(2, 64)},
     kKeep,
     {0, 1}},
    // EPC plenty (free 224), enclave slots 10 of 10 used. Reprieve: prio 5 → the other's slot
    // suffices, back; prio 1 stays (0 free without it).
    {"EnclaveSlotsAreTheBlocker",
     node(32).enclave_slots(10, 10),
     0,
     pod(16 * kMi, 1),
     {sgx(5, 0, 1), sgx(1, 0, 1)},
     kKeep,
     {1}},
    // Both provision slots used; the preemptor wants one. Only the second victim holds one.
    {"ProvisionSlotsAreTheBlocker",
     node(32).provision_slots(2, 2),
     0,
     pod(16 * kMi, 1, 1),
     {sgx(1, 16, 1, 0), sgx(2, 16, 1, 1)},
     kKeep,
     {1}},
    // Needs 2 slots and 64Mi, free 0 slots and 32Mi: the 64Mi victim holds 1 slot, the other
    // 0Mi + 1 slot. Both are needed (either alone leaves a shortage).
    {"EpcAndSlotsTogether",
     node(224).enclave_slots(10, 10),
     0,
     pod(64 * kMi, 2),
     {sgx(3, 64, 1), sgx(1, 0, 1)},
     kKeep,
     {0, 1}},
    // 300Mi > 256Mi capacity: no eviction can help.
    {"CapacityTooSmall", node(224), 0, pod(300 * kMi, 1), {sgx(1, 224)}, kDrop, {}},
    // Live use 240Mi > requested 100Mi: free 16. Evicting 64Mi lowers both: max(36, 176) = 176,
    // free 80 ≥ 64. Lowering only requested would leave free at 16.
    {"LiveUseIsLoweredToo",
     node(100).live_used(240 * kMi),
     0,
     pod(64 * kMi, 1),
     {sgx(1, 64)},
     kKeep,
     {0}},
    // Headroom 32Mi: free 256 − 32 − 192 = 32; after the 16Mi victim 48 < 64 (without the
    // headroom it would be 80).
    {"HeadroomIsCounted", node(192), 32 * kMi, pod(64 * kMi, 1), {sgx(1, 16)}, kDrop, {}},
    // The row counts 224Mi, the victim claims 512Mi: requested clamps at 0, free 256 ≥ 64.
    {"ReleaseAboveTheRowsCountClampsAtZero",
     node(224),
     0,
     pod(64 * kMi, 1),
     {sgx(1, 512)},
     kKeep,
     {0}},
};

class PreemptionTest : public testing::TestWithParam<PreemptRow> {};

TEST_P(PreemptionTest, Row) {
  const PreemptRow& row = GetParam();
  const FitContext context{.now_ns = kNowNs,
                           .stale_after_ns = kStaleAfterNs,
                           .accounting = {.epc_headroom_bytes = row.headroom_bytes}};
  std::vector<std::size_t> kept{99};  // leftovers must be cleared
  EXPECT_EQ(select_victims(row.node, context, row.preemptor, row.candidates, kept), row.keep_node);
  EXPECT_EQ(kept, row.kept);
}

INSTANTIATE_TEST_SUITE_P(Rows, PreemptionTest, testing::ValuesIn(kRows),
                         testing_support::RowName());

// Releases near INT64_MAX summed over many victims must not wrap into "frees nothing".
TEST(PreemptionOverflowTest, HugeReleasesDoNotWrap) {
  const NodeRow row = node(224);
  const FitContext context{.now_ns = kNowNs, .stale_after_ns = kStaleAfterNs, .accounting = {}};
  const VictimCandidate huge{
      .sgx = true, .priority = 1, .release = PodRequest{kInt64Max, kInt64Max, kInt64Max}};
  const std::vector<VictimCandidate> candidates(4, huge);
  std::vector<std::size_t> kept;
  ASSERT_TRUE(select_victims(row, context, pod(64 * kMi, 1), candidates, kept));
  // Any one of them frees everything: the first three are reprieved, the last stays.
  EXPECT_EQ(kept, (std::vector<std::size_t>{3}));
}

// The reprieve's order is sorted inside `kept`; a warmed-up vector needs no new storage.
TEST(PreemptionAllocationTest, WarmVectorKeepsItsStorage) {
  const NodeRow row = node(224);
  const FitContext context{.now_ns = kNowNs, .stale_after_ns = kStaleAfterNs, .accounting = {}};
  const std::vector<VictimCandidate> candidates = {sgx(3, 16), other(2), sgx(1, 16), sgx(2, 16)};
  std::vector<std::size_t> kept;
  kept.reserve(candidates.size());
  const std::size_t* const storage = kept.data();
  // Free 32 < 64: two 16Mi victims are needed; prio 3 goes back first, then prio 2 cannot.
  ASSERT_TRUE(select_victims(row, context, pod(64 * kMi, 1), candidates, kept));
  EXPECT_EQ(kept, (std::vector<std::size_t>{1, 2, 3}));
  EXPECT_EQ(kept.data(), storage);
}

}  // namespace
}  // namespace epc::core
