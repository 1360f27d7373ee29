#include "extender/core/node_row.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::core {
namespace {

using testing_support::kMi;
using testing_support::NodeBuilder;

struct FreeRow {
  std::string_view name;
  NodeRow node;
  std::int64_t headroom_bytes;
  std::int64_t want_used;
  std::int64_t want_usable;
  std::int64_t want_free_epc;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const FreeRow& row, std::ostream* os) { *os << row.name; }

const FreeRow kFreeRows[] = {
    // 1024 − 300 = 724 free; live use unknown so requested is the use.
    {"RequestedOnly", NodeBuilder().epc(1024 * kMi, 300 * kMi), 0, 300 * kMi, 1024 * kMi,
     724 * kMi},
    // Live 500 > requested 300: used = 500, free = 1024 − 500 = 524.
    {"LiveAboveRequested", NodeBuilder().epc(1024 * kMi, 300 * kMi).live_used(500 * kMi), 0,
     500 * kMi, 1024 * kMi, 524 * kMi},
    // Live 100 < requested 300: used = 300, free = 724.
    {"LiveBelowRequested", NodeBuilder().epc(1024 * kMi, 300 * kMi).live_used(100 * kMi), 0,
     300 * kMi, 1024 * kMi, 724 * kMi},
    // An unknown live value is ignored even if the field holds garbage: used = 300.
    {"LiveUnknownIgnored",
     [] {
       NodeRow row = NodeBuilder().epc(1024 * kMi, 300 * kMi);
       row.epc_live_used_bytes = 900 * kMi;
       return row;
     }(),
     0, 300 * kMi, 1024 * kMi, 724 * kMi},
    // Headroom 100: usable = 924, free = 924 − 300 = 624.
    {"Headroom", NodeBuilder().epc(1024 * kMi, 300 * kMi), 100 * kMi, 300 * kMi, 924 * kMi,
     624 * kMi},
    // Over-committed: 1024 − 1200 < 0 → free 0.
    {"OverCommittedClampsToZero", NodeBuilder().epc(1024 * kMi, 1200 * kMi), 0, 1200 * kMi,
     1024 * kMi, 0},
    // Headroom above capacity: usable 0, free 0.
    {"HeadroomAboveCapacity", NodeBuilder().epc(64 * kMi), 128 * kMi, 0, 0, 0},
    // No SGX: nothing at all.
    {"NoEpc", NodeBuilder().no_sgx(), 0, 0, 0, 0},
};

class FreeEpcTest : public testing::TestWithParam<FreeRow> {};

TEST_P(FreeEpcTest, Row) {
  const FreeRow& row = GetParam();
  const NodeAccounting accounting{.epc_headroom_bytes = row.headroom_bytes};
  EXPECT_EQ(epc_used_bytes(row.node), row.want_used);
  EXPECT_EQ(usable_epc_bytes(row.node, accounting), row.want_usable);
  EXPECT_EQ(free_epc_bytes(row.node, accounting), row.want_free_epc);
}

INSTANTIATE_TEST_SUITE_P(Rows, FreeEpcTest, testing::ValuesIn(kFreeRows),
                         testing_support::RowName());

struct SlotRow {
  std::string_view name;
  NodeRow node;
  std::int64_t want_free_enclave;
  std::int64_t want_free_provision;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const SlotRow& row, std::ostream* os) { *os << row.name; }

const SlotRow kSlotRows[] = {
    // 110 − 3 = 107 enclave, 2 − 1 = 1 provision.
    {"PartlyUsed", NodeBuilder().enclave_slots(110, 3).provision_slots(2, 1), 107, 1},
    // Used above total (plugin count lagging a bind): clamps to 0.
    {"UsedAboveTotal", NodeBuilder().enclave_slots(2, 5).provision_slots(1, 4), 0, 0},
    // All free.
    {"Unused", NodeBuilder().enclave_slots(10).provision_slots(10), 10, 10},
};

class FreeSlotsTest : public testing::TestWithParam<SlotRow> {};

TEST_P(FreeSlotsTest, Row) {
  const SlotRow& row = GetParam();
  EXPECT_EQ(free_enclave_slots(row.node), row.want_free_enclave);
  EXPECT_EQ(free_provision_slots(row.node), row.want_free_provision);
}

INSTANTIATE_TEST_SUITE_P(Rows, FreeSlotsTest, testing::ValuesIn(kSlotRows),
                         testing_support::RowName());

}  // namespace
}  // namespace epc::core
