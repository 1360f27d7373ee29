#include "extender/core/ledger.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::core {
namespace {

using testing_support::kMi;

SlotHolder holder(std::string key, std::optional<std::int64_t> epc, std::int64_t enclave = 1,
                  std::string uid = "") {
  return SlotHolder{.pod = PodKey{std::move(key), std::move(uid)},
                    .epc_bytes = epc,
                    .enclave_slots = enclave,
                    .provision_slots = 0};
}

PodKey key(std::string namespace_name, std::string uid = "") {
  return PodKey{std::move(namespace_name), std::move(uid)};
}

std::vector<std::string> keys(const std::vector<LedgerEntry>& entries) {
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const LedgerEntry& entry : entries) {
    out.push_back(entry.pod.namespace_name);
  }
  return out;
}

TEST(LedgerTest, EmptyNodeHasZeroTotals) {
  const Ledger ledger;
  const Ledger::NodeTotals totals = ledger.totals("n1");
  EXPECT_EQ(totals.pods, 0);
  EXPECT_EQ(totals.epc_requested_bytes, 0);
  EXPECT_TRUE(ledger.entries("n1").empty());
}

TEST(LedgerTest, TotalsSumKnownEpcAndSlots) {
  Ledger ledger;
  // 64Mi + 128Mi known, one unknown; slots 1 + 2 + 1 = 4.
  ledger.set_node_holders("n1", {holder("ns/a", 64 * kMi, 1), holder("ns/b", 128 * kMi, 2),
                                 holder("ns/c", std::nullopt, 1)});
  const Ledger::NodeTotals totals = ledger.totals("n1");
  EXPECT_EQ(totals.epc_requested_bytes, 192 * kMi);
  EXPECT_EQ(totals.enclave_slots, 4);
  EXPECT_EQ(totals.pods, 3);
  EXPECT_EQ(totals.pods_with_unknown_epc, 1);
  EXPECT_EQ(ledger.totals("n2").pods, 0);  // other nodes untouched
}

TEST(LedgerTest, SetHoldersReplacesThePreviousReport) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", 64 * kMi), holder("ns/b", 64 * kMi)});
  ledger.set_node_holders("n1", {holder("ns/b", 32 * kMi), holder("ns/c", 16 * kMi)});
  EXPECT_EQ(keys(ledger.entries("n1")), (std::vector<std::string>{"ns/b", "ns/c"}));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 48 * kMi);  // 32 + 16, a is gone
}

TEST(LedgerTest, EmptyHolderListClearsTheNode) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", 64 * kMi)});
  ledger.set_node_holders("n1", {});
  EXPECT_EQ(ledger.totals("n1").pods, 0);
  // And the pod is no longer indexed there: a later request changes nothing.
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 64 * kMi, 1, 0));
}

TEST(LedgerTest, EntriesAreOrderedByPodKey) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("z/p", 1), holder("a/p", 1), holder("m/p", 1)});
  EXPECT_EQ(keys(ledger.entries("n1")), (std::vector<std::string>{"a/p", "m/p", "z/p"}));
}

TEST(LedgerTest, DuplicateHolderLastWins) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", 64 * kMi, 1), holder("ns/a", 32 * kMi, 3)});
  const std::vector<LedgerEntry> entries = ledger.entries("n1");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].epc_bytes, 32 * kMi);
  EXPECT_EQ(entries[0].enclave_slots, 3);
}

TEST(LedgerTest, ReportedEpcIsSourcedFromTheReport) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", 64 * kMi)});
  const std::vector<LedgerEntry> entries = ledger.entries("n1");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].presence_source, LedgerSource::kNodeReport);
  EXPECT_EQ(entries[0].epc_source, LedgerSource::kNodeReport);
}

TEST(LedgerTest, RememberedRequestFillsALaterHolder) {
  Ledger ledger;
  // Nobody holds ns/a yet: nothing changes, but the request is remembered.
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 256 * kMi, 1, 0));
  ledger.set_node_holders("n1", {holder("ns/a", std::nullopt)});
  const std::vector<LedgerEntry> entries = ledger.entries("n1");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].epc_bytes, 256 * kMi);
  EXPECT_EQ(entries[0].epc_source, LedgerSource::kSchedulerRequest);
  EXPECT_EQ(ledger.totals("n1").pods_with_unknown_epc, 0);
}

TEST(LedgerTest, RequestFillsAnExistingHolderOnce) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", std::nullopt)});
  EXPECT_EQ(ledger.totals("n1").pods_with_unknown_epc, 1);
  EXPECT_TRUE(ledger.note_scheduler_request(key("ns/a"), 256 * kMi, 1, 0));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 256 * kMi);
  // The same demand again changes no totals.
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 256 * kMi, 1, 0));
  // A different demand from the same source replaces it (equal rank overwrites).
  EXPECT_TRUE(ledger.note_scheduler_request(key("ns/a"), 128 * kMi, 1, 0));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 128 * kMi);
}

// The writer rebuilds only the rows of the nodes a request moved: ns/a is held on n1 and n3 (the
// plugins disagree for a moment), ns/b on n2. Noting ns/a moves n1 and n3, not n2; noting it again
// with the same demand moves nothing.
TEST(LedgerTest, SchedulerRequestNamesTheNodesWhoseTotalsMoved) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", std::nullopt)});
  ledger.set_node_holders("n2", {holder("ns/b", std::nullopt)});
  ledger.set_node_holders("n3", {holder("ns/a", std::nullopt)});
  std::vector<std::string> moved;
  EXPECT_TRUE(ledger.note_scheduler_request(key("ns/a"), 64 * kMi, 1, 0, &moved));
  EXPECT_EQ(moved, (std::vector<std::string>{"n1", "n3"}));
  moved.clear();
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 64 * kMi, 1, 0, &moved));
  EXPECT_TRUE(moved.empty());
}

TEST(LedgerTest, ReportedEpcIsNotOverwrittenByARequest) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", 64 * kMi)});
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 512 * kMi, 1, 0));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 64 * kMi);
}

TEST(LedgerTest, RequestForARecreatedPodIsNotApplied) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", std::nullopt, 1, "uid-old")});
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a", "uid-new"), 512 * kMi, 1, 0));
  EXPECT_EQ(ledger.totals("n1").pods_with_unknown_epc, 1);
  // Matching UID applies.
  EXPECT_TRUE(ledger.note_scheduler_request(key("ns/a", "uid-old"), 512 * kMi, 1, 0));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 512 * kMi);
}

TEST(LedgerTest, RequestReachesThePodOnEveryNode) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", std::nullopt)});
  ledger.set_node_holders("n2", {holder("ns/a", std::nullopt), holder("ns/b", std::nullopt)});
  EXPECT_TRUE(ledger.note_scheduler_request(key("ns/a"), 100, 1, 0));
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 100);
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 100);
  EXPECT_EQ(ledger.totals("n2").pods_with_unknown_epc, 1);  // ns/b still unknown
}

TEST(LedgerTest, RequestMemoryForgetsTheOldestFirst) {
  Ledger ledger;
  ledger.set_request_memory_limit(2);
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 10, 1, 0));
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/b"), 20, 1, 0));
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 11, 1, 0));  // refreshes a: b is oldest
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/c"), 30, 1, 0));  // evicts b
  ledger.set_node_holders("n1", {holder("ns/a", std::nullopt), holder("ns/b", std::nullopt),
                                 holder("ns/c", std::nullopt)});
  // a (11) + c (30) remembered; b forgotten.
  const Ledger::NodeTotals totals = ledger.totals("n1");
  EXPECT_EQ(totals.epc_requested_bytes, 41);
  EXPECT_EQ(totals.pods_with_unknown_epc, 1);
}

TEST(LedgerTest, LoweringTheLimitEvictsAtOnce) {
  Ledger ledger;
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 10, 1, 0));
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/b"), 20, 1, 0));
  ledger.set_request_memory_limit(1);  // keeps only b, the newest
  ledger.set_node_holders("n1", {holder("ns/a", std::nullopt), holder("ns/b", std::nullopt)});
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 20);
  EXPECT_EQ(ledger.totals("n1").pods_with_unknown_epc, 1);
}

TEST(LedgerTest, RemoveNodeForgetsItsEntries) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", std::nullopt)});
  ledger.set_node_holders("n2", {holder("ns/a", std::nullopt)});
  ledger.remove_node("n1");
  EXPECT_EQ(ledger.totals("n1").pods, 0);
  EXPECT_TRUE(ledger.note_scheduler_request(key("ns/a"), 5, 1, 0));  // n2 still changes
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 0);
  EXPECT_EQ(ledger.totals("n2").epc_requested_bytes, 5);
  ledger.remove_node("n2");
  EXPECT_FALSE(ledger.note_scheduler_request(key("ns/a"), 6, 1, 0));  // nobody holds it now
  ledger.remove_node("never-seen");                                   // harmless
}

TEST(LedgerTest, NegativeReportedEpcCountsAsZero) {
  Ledger ledger;
  ledger.set_node_holders("n1", {holder("ns/a", -64), holder("ns/b", 64)});
  EXPECT_EQ(ledger.totals("n1").epc_requested_bytes, 64);
}

}  // namespace
}  // namespace epc::core
