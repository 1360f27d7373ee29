// The ledger's newer sources: the API watch (bound and pending pods), the extender's own
// reservations (bind), and the expiry of scheduler hints. The report and scheduler-request sides
// are in ledger_test.cc.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "extender/core/ledger.h"
#include "tests/unit/extender/core/test_rows.h"

namespace epc::core {
namespace {

using testing_support::kMi;

PodKey key(std::string namespace_name, std::string uid = "") {
  return PodKey{std::move(namespace_name), std::move(uid)};
}

PodRequest request(std::int64_t epc_bytes, std::int64_t enclave = 1, std::int64_t provision = 0) {
  return PodRequest{.epc_bytes = epc_bytes, .enclave_slots = enclave, .provision_slots = provision};
}

ApiPod api_pod(std::string namespace_name, std::string uid, std::string node,
               std::int64_t epc_bytes, std::int32_t priority = 0, std::int64_t enclave = 1,
               std::int64_t provision = 0) {
  return ApiPod{.pod = PodKey{std::move(namespace_name), std::move(uid)},
                .node = std::move(node),
                .request = request(epc_bytes, enclave, provision),
                .priority = priority,
                .terminal = false};
}

SlotHolder holder(std::string namespace_name, std::optional<std::int64_t> epc,
                  std::int64_t enclave = 1) {
  return SlotHolder{.pod = PodKey{std::move(namespace_name), ""},
                    .epc_bytes = epc,
                    .enclave_slots = enclave,
                    .provision_slots = 0};
}

// moved_nodes may name a node more than once: compare as a set.
std::vector<std::string> distinct(std::vector<std::string> nodes) {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  return nodes;
}

using Names = std::vector<std::string>;

std::size_t entry_count(const Ledger& ledger) {
  std::size_t count = 0;
  ledger.for_each_entry([&](std::string_view, const LedgerEntry&) { ++count; });
  return count;
}

// ---------------------------------------------------------------------------------------------
// The API watch.

TEST(LedgerSourcesTest, BoundApiPodCountsOnItsNode) {
  Ledger ledger;
  Names moved;
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi, /*priority=*/5, 2, 1), &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1"}));

  const Ledger::NodeTotals totals = ledger.totals("n1");
  EXPECT_EQ(totals.epc_requested_bytes, 64 * kMi);
  EXPECT_EQ(totals.enclave_slots, 2);
  EXPECT_EQ(totals.provision_slots, 1);
  EXPECT_EQ(totals.pods, 1);
  EXPECT_EQ(totals.pods_with_unknown_epc, 0);
  EXPECT_EQ(ledger.totals("n2").pods, 0);

  const std::vector<LedgerEntry> entries = ledger.entries("n1");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].pod, key("ns/a", "uid-a"));
  EXPECT_EQ(entries[0].presence_source, LedgerSource::kApiWatch);
  EXPECT_EQ(entries[0].epc_source, LedgerSource::kApiWatch);
  EXPECT_EQ(entries[0].priority, 5);
  EXPECT_TRUE(ledger.api_knows("uid-a"));
  EXPECT_EQ(ledger.api_pod_count(), 1u);
}

TEST(LedgerSourcesTest, ApiPodTakesPrecedenceOverAReportHolder) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", 16 * kMi)});
  ASSERT_EQ(ledger.totals("n1").epc_requested_bytes, 16 * kMi);

  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi));
  Ledger::NodeTotals totals = ledger.totals("n1");
  EXPECT_EQ(totals.epc_requested_bytes, 64 * kMi);  // the API's EPC, not the report's
  EXPECT_EQ(totals.pods, 1);                        // one pod, not a report entry beside it
  ASSERT_EQ(ledger.entries("n1").size(), 1u);
  EXPECT_EQ(ledger.entries("n1")[0].presence_source, LedgerSource::kApiWatch);

  // A later report with another EPC for the same pod (and a new pod) does not downgrade it.
  ledger.set_node_holders("n1", {holder("ns/a", 8 * kMi), holder("ns/b", 4 * kMi)});
  totals = ledger.totals("n1");
  EXPECT_EQ(totals.epc_requested_bytes, 64 * kMi + 4 * kMi);
  EXPECT_EQ(totals.pods, 2);
  const std::vector<LedgerEntry> entries = ledger.entries("n1");
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0].pod.namespace_name, "ns/a");
  EXPECT_EQ(entries[0].presence_source, LedgerSource::kApiWatch);
  EXPECT_EQ(entries[0].epc_source, LedgerSource::kApiWatch);
  EXPECT_EQ(entries[0].epc_bytes, 64 * kMi);

  // Nor does a scheduler request, nor a report that no longer lists it.
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 1 * kMi, 1, 0));
  ledger.set_node_holders("n1", {});
  totals = ledger.totals("n1");
  EXPECT_EQ(totals.epc_requested_bytes, 64 * kMi);
  EXPECT_EQ(totals.pods, 1);
}

TEST(LedgerSourcesTest, PendingApiPodCountsNowhereButDemandKnowsIt) {
  Ledger ledger;
  Names moved;
  ledger.upsert_api_pod(api_pod("ns/p", "uid-p", "", 32 * kMi, /*priority=*/7, 1, 1), &moved);
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(entry_count(ledger), 0u);
  EXPECT_TRUE(ledger.api_knows("uid-p"));

  for (const PodKey& asked : {key("ns/p", "uid-p"), key("ns/p")}) {
    const std::optional<PodDemand> demand = ledger.demand(asked);
    ASSERT_TRUE(demand.has_value()) << asked.uid;
    EXPECT_EQ(demand->request, request(32 * kMi, 1, 1));
    EXPECT_EQ(demand->priority, 7);
    EXPECT_TRUE(demand->from_api);
    EXPECT_TRUE(demand->bound_node.empty());
  }
  EXPECT_FALSE(ledger.demand(key("ns/other")).has_value());
}

TEST(LedgerSourcesTest, PendingThenBoundThenModifiedToAnotherNodeMovesIt) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "", 64 * kMi));
  Names moved;
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi), &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1"}));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 64 * kMi);

  moved.clear();
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n2", 64 * kMi), &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1", "n2"}));
  EXPECT_EQ(ledger.totals("n1").pods, 0);
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 0);
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 64 * kMi);
  EXPECT_EQ(ledger.totals("n2").pods, 1);
  EXPECT_EQ(entry_count(ledger), 1u);
  EXPECT_EQ(ledger.demand(key("ns/a", "uid-a"))->bound_node, "n2");
}

TEST(LedgerSourcesTest, TerminalPodReleasesEverything) {
  // Succeeded and Failed both arrive as terminal = true.
  for (const char* phase : {"Succeeded", "Failed"}) {
    SCOPED_TRACE(phase);
    Ledger ledger;
    ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi));
    ledger.upsert_api_pod(api_pod("ns/b", "uid-b", "n1", 16 * kMi));
    ApiPod done = api_pod("ns/a", "uid-a", "n1", 64 * kMi);
    done.terminal = true;
    Names moved;
    ledger.upsert_api_pod(done, &moved);
    EXPECT_EQ(distinct(moved), (Names{"n1"}));
    EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 16 * kMi);  // only b is left
    EXPECT_EQ(ledger.totals("n1").pods, 1);
    EXPECT_FALSE(ledger.api_knows("uid-a"));
    EXPECT_TRUE(ledger.api_knows("uid-b"));
    EXPECT_FALSE(ledger.demand(key("ns/a", "uid-a")).has_value());
  }
}

TEST(LedgerSourcesTest, RemoveApiPodReleasesIt) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi));
  ledger.upsert_api_pod(api_pod("ns/b", "uid-b", "n1", 16 * kMi));
  Names moved;
  ledger.remove_api_pod("uid-a", &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1"}));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 16 * kMi);
  EXPECT_EQ(ledger.totals("n1").pods, 1);
  EXPECT_FALSE(ledger.api_knows("uid-a"));
  EXPECT_EQ(ledger.api_pod_count(), 1u);

  moved.clear();
  ledger.remove_api_pod("uid-unknown", &moved);  // a delete of something never seen: nothing
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 16 * kMi);
}

TEST(LedgerSourcesTest, RecreatedPodWithANewUidReplacesTheOldIncarnation) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/a", "uid-1", "n1", 64 * kMi));
  Names moved;
  ledger.upsert_api_pod(api_pod("ns/a", "uid-2", "n2", 32 * kMi), &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1", "n2"}));
  EXPECT_EQ(ledger.totals("n1").pods, 0);
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 32 * kMi);
  EXPECT_FALSE(ledger.api_knows("uid-1"));
  EXPECT_TRUE(ledger.api_knows("uid-2"));
  EXPECT_EQ(ledger.api_pod_count(), 1u);
  EXPECT_FALSE(ledger.demand(key("ns/a", "uid-1")).has_value());
  ASSERT_TRUE(ledger.demand(key("ns/a", "uid-2")).has_value());
  EXPECT_EQ(ledger.demand(key("ns/a", "uid-2"))->request.epc_bytes, 32 * kMi);

  // Recreated on the same node: one entry, the new incarnation's EPC.
  ledger.upsert_api_pod(api_pod("ns/a", "uid-3", "n2", 16 * kMi));
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 16 * kMi);
  EXPECT_EQ(ledger.totals("n2").pods, 1);
  EXPECT_EQ(ledger.entries("n2")[0].pod.uid, "uid-3");

  // The old incarnation's delete, arriving late, does not touch the new one.
  ledger.remove_api_pod("uid-2");
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 16 * kMi);
  EXPECT_TRUE(ledger.api_knows("uid-3"));
}

TEST(LedgerSourcesTest, ReplaceApiPodsRemovesMissingPodsAndKeepsTheRest) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi));
  ledger.upsert_api_pod(api_pod("ns/b", "uid-b", "n1", 32 * kMi));
  ledger.upsert_api_pod(api_pod("ns/c", "uid-c", "n2", 16 * kMi));
  ledger.upsert_api_pod(api_pod("ns/gone", "uid-gone", "", 8 * kMi));

  const std::vector<ApiPod> relist = {api_pod("ns/a", "uid-a", "n1", 64 * kMi),
                                      api_pod("ns/c", "uid-c", "n2", 16 * kMi),
                                      api_pod("ns/d", "uid-d", "n2", 4 * kMi)};
  Names moved;
  ledger.replace_api_pods(relist, &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1", "n2"}));  // b left n1, d joined n2
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 64 * kMi);
  EXPECT_EQ(ledger.totals("n1").pods, 1);
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 20 * kMi);
  EXPECT_EQ(ledger.totals("n2").pods, 2);
  EXPECT_FALSE(ledger.api_knows("uid-b"));
  EXPECT_FALSE(ledger.api_knows("uid-gone"));
  EXPECT_EQ(ledger.api_pod_count(), 3u);

  // Replaying the same list changes nothing: no double counting, no node moved.
  for (int replay = 0; replay < 2; ++replay) {
    moved.clear();
    ledger.replace_api_pods(relist, &moved);
    EXPECT_TRUE(moved.empty());
    EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 64 * kMi);
    EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 20 * kMi);
    EXPECT_EQ(ledger.totals("n2").pods, 2);
    EXPECT_EQ(entry_count(ledger), 3u);
    EXPECT_EQ(ledger.api_pod_count(), 3u);
  }

  // An empty relist removes every API pod.
  moved.clear();
  ledger.replace_api_pods({}, &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1", "n2"}));
  EXPECT_EQ(entry_count(ledger), 0u);
  EXPECT_EQ(ledger.api_pod_count(), 0u);
}

TEST(LedgerSourcesTest, ReplaceApiPodsLeavesReportHoldersAlone) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/r", 8 * kMi)});
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi));
  ledger.replace_api_pods({});
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 8 * kMi);
  EXPECT_EQ(ledger.totals("n1").pods, 1);
}

// ---------------------------------------------------------------------------------------------
// Reservations.

TEST(LedgerSourcesTest, ReserveCountsAtOnceOnTheNode) {
  Ledger ledger;
  Names moved;
  ledger.reserve(key("ns/r", "uid-r"), "n1", request(64 * kMi, 1, 1), /*expires_ns=*/100, &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1"}));
  const Ledger::NodeTotals totals = ledger.totals("n1");
  EXPECT_EQ(totals.epc_requested_bytes, 64 * kMi);
  EXPECT_EQ(totals.enclave_slots, 1);
  EXPECT_EQ(totals.provision_slots, 1);
  EXPECT_EQ(totals.pods, 1);
  ASSERT_EQ(ledger.entries("n1").size(), 1u);
  EXPECT_EQ(ledger.entries("n1")[0].presence_source, LedgerSource::kBind);
  EXPECT_EQ(ledger.reservation_count(), 1u);
  EXPECT_EQ(ledger.next_reservation_expiry(), std::optional<std::int64_t>(100));
}

TEST(LedgerSourcesTest, ReservationTakesThePriorityTheApiKnows) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/r", "uid-r", "", 64 * kMi, /*priority=*/42));
  ledger.reserve(key("ns/r", "uid-r"), "n1", request(64 * kMi), 100);
  ASSERT_EQ(ledger.entries("n1").size(), 1u);
  EXPECT_EQ(ledger.entries("n1")[0].priority, 42);
}

TEST(LedgerSourcesTest, ReservationConfirmedByTheApiIsCountedOnce) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/r", "uid-r", "", 64 * kMi));
  ledger.reserve(key("ns/r", "uid-r"), "n1", request(64 * kMi), 100);
  ASSERT_EQ(ledger.totals("n1").epc_requested_bytes, 64 * kMi);

  Names moved;
  ledger.upsert_api_pod(api_pod("ns/r", "uid-r", "n1", 64 * kMi), &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1"}));  // its source changed
  const Ledger::NodeTotals totals = ledger.totals("n1");
  EXPECT_EQ(totals.epc_requested_bytes, 64 * kMi);  // once, not twice
  EXPECT_EQ(totals.pods, 1);
  ASSERT_EQ(ledger.entries("n1").size(), 1u);
  EXPECT_EQ(ledger.entries("n1")[0].presence_source, LedgerSource::kApiWatch);
  EXPECT_EQ(ledger.reservation_count(), 0u);
  EXPECT_FALSE(ledger.next_reservation_expiry().has_value());

  // Confirmed: no expiry can take it away any more.
  EXPECT_EQ(ledger.expire_reservations(1'000'000), 0u);
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 64 * kMi);
  EXPECT_EQ(ledger.demand(key("ns/r", "uid-r"))->bound_source, LedgerSource::kApiWatch);
}

TEST(LedgerSourcesTest, ConfirmationCarriesTheApiRequest) {
  // The API's request (it is what kubelet admits by) replaces what the reservation assumed.
  Ledger ledger;
  ledger.reserve(key("ns/r", "uid-r"), "n1", request(64 * kMi), 100);
  ledger.upsert_api_pod(api_pod("ns/r", "uid-r", "n1", 48 * kMi));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 48 * kMi);
  EXPECT_EQ(ledger.totals("n1").pods, 1);
}

TEST(LedgerSourcesTest, ReserveOnANodeWhereTheApiHasThePodChangesNothing) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/r", "uid-r", "n1", 48 * kMi));
  ledger.reserve(key("ns/r", "uid-r"), "n1", request(64 * kMi), 100);
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 48 * kMi);
  EXPECT_EQ(ledger.entries("n1")[0].presence_source, LedgerSource::kApiWatch);
  EXPECT_EQ(ledger.reservation_count(), 0u);
}

TEST(LedgerSourcesTest, ApiBindToAnotherNodeDropsTheReservation) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/r", "uid-r", "", 64 * kMi));
  ledger.reserve(key("ns/r", "uid-r"), "n1", request(64 * kMi), 100);
  Names moved;
  ledger.upsert_api_pod(api_pod("ns/r", "uid-r", "n2", 64 * kMi), &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1", "n2"}));
  EXPECT_EQ(ledger.totals("n1").pods, 0);
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 0);
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 64 * kMi);
  EXPECT_EQ(ledger.reservation_count(), 0u);
  EXPECT_EQ(ledger.demand(key("ns/r", "uid-r"))->bound_node, "n2");
}

TEST(LedgerSourcesTest, DeletingThePodDropsItsReservation) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/r", "uid-r", "", 64 * kMi));
  ledger.reserve(key("ns/r", "uid-r"), "n1", request(64 * kMi), 100);
  Names moved;
  ledger.remove_api_pod("uid-r", &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1"}));
  EXPECT_EQ(ledger.totals("n1").pods, 0);
  EXPECT_EQ(ledger.reservation_count(), 0u);
}

TEST(LedgerSourcesTest, CancelReservationReleasesIt) {
  Ledger ledger;
  ledger.reserve(key("ns/r", "uid-r"), "n1", request(64 * kMi), 100);
  ledger.reserve(key("ns/s", "uid-s"), "n1", request(16 * kMi), 100);

  Names moved;
  EXPECT_FALSE(ledger.cancel_reservation(key("ns/r", "uid-r"), "n2", &moved));  // not there
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 80 * kMi);

  EXPECT_TRUE(ledger.cancel_reservation(key("ns/r", "uid-r"), "n1", &moved));
  EXPECT_EQ(distinct(moved), (Names{"n1"}));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 16 * kMi);
  EXPECT_EQ(ledger.totals("n1").pods, 1);
  EXPECT_EQ(ledger.reservation_count(), 1u);

  EXPECT_FALSE(ledger.cancel_reservation(key("ns/r", "uid-r"), "n1"));  // already gone
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 16 * kMi);
}

TEST(LedgerSourcesTest, ExpireReservationsReleasesOnlyExpiredOnes) {
  Ledger ledger;
  ledger.reserve(key("ns/a", "uid-a"), "n1", request(64 * kMi), /*expires_ns=*/100);
  ledger.reserve(key("ns/b", "uid-b"), "n1", request(32 * kMi), /*expires_ns=*/200);
  ledger.reserve(key("ns/c", "uid-c"), "n2", request(16 * kMi), /*expires_ns=*/300);
  EXPECT_EQ(ledger.next_reservation_expiry(), std::optional<std::int64_t>(100));

  Names moved;
  EXPECT_EQ(ledger.expire_reservations(99, &moved), 0u);
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 96 * kMi);

  EXPECT_EQ(ledger.expire_reservations(100, &moved), 1u);  // due at 100: expired at 100
  EXPECT_EQ(distinct(moved), (Names{"n1"}));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 32 * kMi);
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 16 * kMi);
  EXPECT_EQ(ledger.reservation_count(), 2u);
  EXPECT_EQ(ledger.next_reservation_expiry(), std::optional<std::int64_t>(200));

  moved.clear();
  EXPECT_EQ(ledger.expire_reservations(1000, &moved), 2u);
  EXPECT_EQ(distinct(moved), (Names{"n1", "n2"}));
  EXPECT_EQ(entry_count(ledger), 0u);
  EXPECT_FALSE(ledger.next_reservation_expiry().has_value());
}

TEST(LedgerSourcesTest, ExtendReservationsPushesExpiryButNeverPullsItIn) {
  Ledger ledger;
  ledger.reserve(key("ns/a", "uid-a"), "n1", request(64 * kMi), /*expires_ns=*/100);
  ledger.reserve(key("ns/b", "uid-b"), "n1", request(32 * kMi), /*expires_ns=*/300);
  ledger.extend_reservations(250);
  EXPECT_EQ(ledger.next_reservation_expiry(), std::optional<std::int64_t>(250));
  EXPECT_EQ(ledger.expire_reservations(249), 0u);
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 96 * kMi);
  EXPECT_EQ(ledger.expire_reservations(250), 1u);  // a, now due at 250; b keeps its 300
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 32 * kMi);
  EXPECT_EQ(ledger.next_reservation_expiry(), std::optional<std::int64_t>(300));
}

TEST(LedgerSourcesTest, ReserveElsewhereMovesTheReservation) {
  Ledger ledger;
  ledger.reserve(key("ns/r", "uid-r"), "n1", request(64 * kMi), 100);
  Names moved;
  ledger.reserve(key("ns/r", "uid-r"), "n2", request(64 * kMi), 200, &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1", "n2"}));
  EXPECT_EQ(ledger.totals("n1").pods, 0);
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 64 * kMi);
  EXPECT_EQ(ledger.reservation_count(), 1u);
}

// ---------------------------------------------------------------------------------------------
// demand().

TEST(LedgerSourcesTest, DemandWithAMismatchingUidIsUnknown) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi));
  EXPECT_FALSE(ledger.demand(key("ns/a", "uid-other")).has_value());
  EXPECT_TRUE(ledger.demand(key("ns/a", "uid-a")).has_value());

  // The same for a pod only a scheduler request showed.
  ledger.note_scheduler_request(key("ns/h", "uid-h"), 16 * kMi, 1, 0);
  EXPECT_FALSE(ledger.demand(key("ns/h", "uid-other")).has_value());
  ASSERT_TRUE(ledger.demand(key("ns/h", "uid-h")).has_value());
  EXPECT_TRUE(ledger.demand(key("ns/h")).has_value());
}

TEST(LedgerSourcesTest, DemandReportsWhereThePodIsBound) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi, /*priority=*/3));
  std::optional<PodDemand> demand = ledger.demand(key("ns/a", "uid-a"));
  ASSERT_TRUE(demand.has_value());
  EXPECT_TRUE(demand->from_api);
  EXPECT_EQ(demand->bound_node, "n1");
  EXPECT_EQ(demand->bound_source, LedgerSource::kApiWatch);
  EXPECT_EQ(demand->priority, 3);
  EXPECT_EQ(demand->request, request(64 * kMi));

  // A pending API pod with a reservation of ours.
  ledger.upsert_api_pod(api_pod("ns/p", "uid-p", "", 32 * kMi, /*priority=*/9));
  ledger.reserve(key("ns/p", "uid-p"), "n2", request(32 * kMi), 100);
  demand = ledger.demand(key("ns/p", "uid-p"));
  ASSERT_TRUE(demand.has_value());
  EXPECT_TRUE(demand->from_api);
  EXPECT_EQ(demand->bound_node, "n2");
  EXPECT_EQ(demand->bound_source, LedgerSource::kBind);
  EXPECT_EQ(demand->priority, 9);

  // A pod only a scheduler request showed, then reserved.
  ledger.note_scheduler_request(key("ns/h", "uid-h"), 16 * kMi, 1, 0);
  demand = ledger.demand(key("ns/h", "uid-h"));
  ASSERT_TRUE(demand.has_value());
  EXPECT_FALSE(demand->from_api);
  EXPECT_TRUE(demand->bound_node.empty());
  EXPECT_EQ(demand->request, request(16 * kMi, 1, 0));
  ledger.reserve(key("ns/h", "uid-h"), "n3", request(16 * kMi), 100);
  demand = ledger.demand(key("ns/h", "uid-h"));
  ASSERT_TRUE(demand.has_value());
  EXPECT_EQ(demand->bound_node, "n3");
  EXPECT_EQ(demand->bound_source, LedgerSource::kBind);

  // Cancelled: bound nowhere again.
  ASSERT_TRUE(ledger.cancel_reservation(key("ns/h", "uid-h"), "n3"));
  EXPECT_TRUE(ledger.demand(key("ns/h", "uid-h"))->bound_node.empty());
}

// ---------------------------------------------------------------------------------------------
// Hints.

TEST(LedgerSourcesTest, ExpireHintsForgetsOldSchedulerRequests) {
  Ledger ledger;
  ledger.note_scheduler_request(key("ns/old"), 16 * kMi, 1, 0, nullptr, /*now_ns=*/100);
  ledger.note_scheduler_request(key("ns/new"), 32 * kMi, 1, 0, nullptr, /*now_ns=*/200);

  ledger.expire_hints(100);  // older than 100: none
  EXPECT_TRUE(ledger.demand(key("ns/old")).has_value());

  ledger.expire_hints(150);
  EXPECT_FALSE(ledger.demand(key("ns/old")).has_value());
  ASSERT_TRUE(ledger.demand(key("ns/new")).has_value());
  EXPECT_EQ(ledger.demand(key("ns/new"))->request.epc_bytes, 32 * kMi);

  // A forgotten hint no longer fills in the EPC of a holder reported later.
  ledger.set_node_holders("n1", {holder("ns/old", std::nullopt), holder("ns/new", std::nullopt)});
  EXPECT_EQ(ledger.totals("n1").pods_with_unknown_epc, 1);
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 32 * kMi);

  ledger.expire_hints(201);
  EXPECT_FALSE(ledger.demand(key("ns/new")).has_value());
}

TEST(LedgerSourcesTest, ARenewedHintIsKeptByItsNewTime) {
  Ledger ledger;
  ledger.note_scheduler_request(key("ns/a"), 16 * kMi, 1, 0, nullptr, /*now_ns=*/100);
  ledger.note_scheduler_request(key("ns/b"), 16 * kMi, 1, 0, nullptr, /*now_ns=*/150);
  ledger.note_scheduler_request(key("ns/a"), 16 * kMi, 1, 0, nullptr, /*now_ns=*/300);
  ledger.expire_hints(200);
  EXPECT_TRUE(ledger.demand(key("ns/a")).has_value());
  EXPECT_FALSE(ledger.demand(key("ns/b")).has_value());
}

TEST(LedgerSourcesTest, ExpireHintsLeavesApiPodsAlone) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/p", "uid-p", "", 32 * kMi));
  ledger.note_scheduler_request(key("ns/p", "uid-p"), 16 * kMi, 1, 0, nullptr, /*now_ns=*/1);
  ledger.expire_hints(1000);
  ASSERT_TRUE(ledger.demand(key("ns/p", "uid-p")).has_value());
  EXPECT_EQ(ledger.demand(key("ns/p", "uid-p"))->request.epc_bytes, 32 * kMi);
}

// ---------------------------------------------------------------------------------------------
// moved_nodes.

TEST(LedgerSourcesTest, MovedNodesListsTheNodesWhoseTotalsChanged) {
  Ledger ledger;
  ledger.upsert_api_pod(api_pod("ns/x", "uid-x", "n3", 8 * kMi));  // a bystander on n3
  Names moved;

  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi), &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1"}));

  moved.clear();
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 64 * kMi), &moved);  // unchanged
  EXPECT_TRUE(moved.empty());

  moved.clear();
  ledger.upsert_api_pod(api_pod("ns/a", "uid-a", "n1", 96 * kMi), &moved);  // resized
  EXPECT_EQ(distinct(moved), (Names{"n1"}));

  moved.clear();
  ledger.upsert_api_pod(api_pod("ns/p", "uid-p", "", 64 * kMi), &moved);  // pending
  EXPECT_TRUE(moved.empty());

  moved.clear();
  ledger.reserve(key("ns/p", "uid-p"), "n2", request(64 * kMi), 100, &moved);
  EXPECT_EQ(distinct(moved), (Names{"n2"}));

  moved.clear();
  EXPECT_EQ(ledger.expire_reservations(100, &moved), 1u);
  EXPECT_EQ(distinct(moved), (Names{"n2"}));

  moved.clear();
  ledger.remove_api_pod("uid-a", &moved);
  EXPECT_EQ(distinct(moved), (Names{"n1"}));

  moved.clear();
  ledger.remove_api_pod("uid-p", &moved);  // pending, nothing counted: nothing moved
  EXPECT_TRUE(moved.empty());
  EXPECT_EQ(ledger.totals("n3").epc_requested_bytes, 8 * kMi);
}

}  // namespace
}  // namespace epc::core
