#include "extender/kube/bound_pod_requests.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace epc::kube {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;
using Totals = state::NodeCpuMemoryRequested;

constexpr std::int64_t kMi = std::int64_t{1} << 20;
constexpr const char* kUid1 = "db533e12-9dcb-467d-bc47-d535c8fd6885";
constexpr const char* kUid2 = "6d08bb6d-ffaf-4489-a4f0-56643919d927";
constexpr const char* kUid3 = "bb293a9b-1357-41be-a381-208f6116d1d3";

PodCpuMemory pod(std::string uid, std::string node, std::int64_t cpu_milli,
                 std::int64_t memory_bytes, bool terminal = false) {
  return PodCpuMemory{.uid = std::move(uid),
                      .node = std::move(node),
                      .terminal = terminal,
                      .cpu_milli = cpu_milli,
                      .memory_bytes = memory_bytes};
}

Totals totals(std::string node, std::int64_t cpu_milli, std::int64_t memory_bytes,
              std::int64_t pods) {
  return Totals{
      .node = std::move(node), .cpu_milli = cpu_milli, .memory_bytes = memory_bytes, .pods = pods};
}

TEST(BoundPodRequests, bound_pods_add_up_per_node) {
  BoundPodRequests table;
  table.apply(pod(kUid1, "node-a", 100, 64 * kMi));
  table.apply(pod(kUid2, "node-a", 250, 0));
  table.apply(pod(kUid3, "node-b", 500, 128 * kMi));
  EXPECT_EQ(table.pod_count(), 3u);
  EXPECT_EQ(table.totals("node-a"), totals("node-a", 350, 64 * kMi, 2));
  EXPECT_EQ(table.totals("node-b"), totals("node-b", 500, 128 * kMi, 1));
  // In the order they first moved, once each.
  EXPECT_THAT(table.take_changes(),
              ElementsAre(totals("node-a", 350, 64 * kMi, 2), totals("node-b", 500, 128 * kMi, 1)));
  EXPECT_THAT(table.take_changes(), IsEmpty());
}

TEST(BoundPodRequests, pending_pods_count_once_bound) {
  BoundPodRequests table;
  table.apply(pod(kUid1, "", 100, 64 * kMi));  // ADDED, unbound
  EXPECT_EQ(table.pod_count(), 0u);
  EXPECT_THAT(table.take_changes(), IsEmpty());
  table.apply(pod(kUid1, "node-a", 100, 64 * kMi));  // MODIFIED: the binding
  EXPECT_THAT(table.take_changes(), ElementsAre(totals("node-a", 100, 64 * kMi, 1)));
}

TEST(BoundPodRequests, a_status_update_moves_nothing) {
  BoundPodRequests table;
  table.apply(pod(kUid1, "node-a", 100, 64 * kMi));
  table.take_changes();
  table.apply(pod(kUid1, "node-a", 100, 64 * kMi));  // Running, conditions, …: same requests
  EXPECT_THAT(table.take_changes(), IsEmpty());
}

TEST(BoundPodRequests, a_resized_pod_replaces_its_requests) {
  BoundPodRequests table;
  table.apply(pod(kUid1, "node-a", 100, 64 * kMi));
  table.apply(pod(kUid2, "node-a", 200, 0));
  table.take_changes();
  table.apply(pod(kUid1, "node-a", 1000, 32 * kMi));  // 1000 + 200, 32Mi + 0
  EXPECT_THAT(table.take_changes(), ElementsAre(totals("node-a", 1200, 32 * kMi, 2)));
}

TEST(BoundPodRequests, terminal_and_deleted_pods_give_back_exactly_what_they_added) {
  BoundPodRequests table;
  table.apply(pod(kUid1, "node-a", 100, 64 * kMi));
  table.apply(pod(kUid2, "node-a", 250, 8 * kMi));
  table.take_changes();

  table.apply(pod(kUid1, "node-a", 100, 64 * kMi, /*terminal=*/true));  // Succeeded
  EXPECT_THAT(table.take_changes(), ElementsAre(totals("node-a", 250, 8 * kMi, 1)));
  // Its DELETED later changes nothing more (it was no longer counted).
  table.remove(kUid1);
  EXPECT_THAT(table.take_changes(), IsEmpty());

  table.remove(kUid2);  // DELETED while running: the node has none left
  EXPECT_THAT(table.take_changes(), ElementsAre(totals("node-a", 0, 0, 0)));
  EXPECT_EQ(table.pod_count(), 0u);
  EXPECT_EQ(table.node_count(), 0u);  // its directory slot is given back
  table.remove("never-seen");
  EXPECT_THAT(table.take_changes(), IsEmpty());
}

TEST(BoundPodRequests, a_node_that_empties_and_fills_again_in_one_batch_reports_its_final_totals) {
  BoundPodRequests table;
  table.apply(pod(kUid1, "node-a", 100, 1));
  table.take_changes();
  table.remove(kUid1);
  table.apply(pod(kUid2, "node-a", 300, 3));
  EXPECT_THAT(table.take_changes(), ElementsAre(totals("node-a", 300, 3, 1)));
}

TEST(BoundPodRequests, a_relist_replaces_everything) {
  BoundPodRequests table;
  table.apply(pod(kUid1, "node-a", 100, 1));
  table.apply(pod(kUid2, "node-b", 200, 2));
  table.take_changes();
  // 410 Gone: the relist finds kUid2 gone and kUid3 on node-c; kUid1 still there.
  table.clear();
  table.apply(pod(kUid1, "node-a", 100, 1));
  table.apply(pod(kUid3, "node-c", 300, 3));
  EXPECT_THAT(table.all_totals(),
              UnorderedElementsAre(totals("node-a", 100, 1, 1), totals("node-c", 300, 3, 1)));
  EXPECT_THAT(table.take_changes(), IsEmpty());  // all_totals included them
  table.remove(kUid1);
  EXPECT_THAT(table.take_changes(), ElementsAre(totals("node-a", 0, 0, 0)));
  EXPECT_THAT(table.all_totals(), ElementsAre(totals("node-c", 300, 3, 1)));
}

TEST(BoundPodRequests, uids_that_are_not_lowercase_uuids_are_kept_exactly) {
  BoundPodRequests table;
  // The same letters in another case, and plain text: three different pods.
  table.apply(pod(kUid1, "node-a", 1, 0));
  table.apply(pod("DB533E12-9DCB-467D-BC47-D535C8FD6885", "node-a", 10, 0));
  table.apply(pod("uid-1", "node-a", 100, 0));
  EXPECT_EQ(table.pod_count(), 3u);
  EXPECT_EQ(table.totals("node-a").cpu_milli, 111);
  table.remove("DB533E12-9DCB-467D-BC47-D535C8FD6885");
  table.remove("uid-1");
  EXPECT_EQ(table.totals("node-a"), totals("node-a", 1, 0, 1));
}

TEST(BoundPodRequests, absurd_requests_saturate_in_the_totals_but_come_back_out_exactly) {
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  BoundPodRequests table;
  table.apply(pod(kUid1, "node-a", kMax, kMax));
  table.apply(pod(kUid2, "node-a", 100, 7));
  EXPECT_EQ(table.totals("node-a"), totals("node-a", kMax, kMax, 2));
  table.remove(kUid1);
  EXPECT_EQ(table.totals("node-a"), totals("node-a", 100, 7, 1));
}

TEST(BoundPodRequests, a_hundred_thousand_pods) {
  // Scale: 100k pods on 1000 nodes, then half of them deleted; the totals stay exact.
  BoundPodRequests table;
  auto uid = [](int i) {
    char text[37];
    std::snprintf(text, sizeof text, "%08x-0000-4000-8000-%012x", i, i * 7);
    return std::string(text);
  };
  for (int i = 0; i < 100'000; ++i) {
    table.apply(pod(uid(i), "node-" + std::to_string(i % 1000), 100, kMi));
  }
  EXPECT_EQ(table.pod_count(), 100'000u);
  EXPECT_EQ(table.take_changes().size(), 1000u);
  for (int i = 0; i < 100'000; i += 2) {
    table.remove(uid(i));
  }
  EXPECT_EQ(table.totals("node-1"), totals("node-1", 100 * 100, 100 * kMi, 100));
  EXPECT_EQ(table.totals("node-2"), totals("node-2", 0, 0, 0));  // every pod of node-2 was even
  EXPECT_EQ(table.take_changes().size(), 500u);
  EXPECT_EQ(table.node_count(), 500u);
}

}  // namespace
}  // namespace epc::kube
