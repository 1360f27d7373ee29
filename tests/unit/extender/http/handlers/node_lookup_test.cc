#include "extender/http/handlers/node_lookup.h"

#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/unit/extender/http/http_test_util.h"

namespace epc::http::handlers {
namespace {

using ::testing::ElementsAre;

state::ClusterSnapshot snapshot_of(std::initializer_list<const char*> names) {
  state::ClusterSnapshot snapshot;
  for (const char* name : names) {
    snapshot.add(test::info(name), test::sgx_row(64));
  }
  return snapshot;
}

TEST(ResolveNodes, finds_rows_and_marks_unknown_names) {
  const state::ClusterSnapshot snapshot = snapshot_of({"a", "b", "c"});
  HandlerScratch scratch;
  const std::vector<std::string_view> names = {"c", "x", "a"};
  resolve_nodes(names, snapshot, scratch);
  EXPECT_THAT(scratch.node_indices, ElementsAre(2u, kUnknownNode, 0u));
}

TEST(ResolveNodes, remembered_indices_are_checked_against_the_new_snapshot) {
  HandlerScratch scratch;
  const std::vector<std::string_view> names = {"a", "b", "c"};
  resolve_nodes(names, snapshot_of({"a", "b", "c"}), scratch);
  EXPECT_THAT(scratch.node_indices, ElementsAre(0u, 1u, 2u));
  // Same request against a snapshot where the rows moved and "b" left: the memo must not be
  // trusted blindly.
  resolve_nodes(names, snapshot_of({"c", "a"}), scratch);
  EXPECT_THAT(scratch.node_indices, ElementsAre(1u, kUnknownNode, 0u));
  // "b" is back at a new index: an unknown memo entry is looked up again.
  resolve_nodes(names, snapshot_of({"c", "a", "b"}), scratch);
  EXPECT_THAT(scratch.node_indices, ElementsAre(1u, 2u, 0u));
}

TEST(ResolveNodes, different_lists_on_one_connection) {
  const state::ClusterSnapshot snapshot = snapshot_of({"a", "b", "c", "d"});
  HandlerScratch scratch;
  resolve_nodes(std::vector<std::string_view>{"d", "c", "b", "a"}, snapshot, scratch);
  resolve_nodes(std::vector<std::string_view>{"b"}, snapshot, scratch);
  EXPECT_THAT(scratch.node_indices, ElementsAre(1u));
  resolve_nodes(std::vector<std::string_view>{"a", "b", "c", "d", "e"}, snapshot, scratch);
  EXPECT_THAT(scratch.node_indices, ElementsAre(0u, 1u, 2u, 3u, kUnknownNode));
  resolve_nodes(std::vector<std::string_view>{}, snapshot, scratch);
  EXPECT_TRUE(scratch.node_indices.empty());
}

}  // namespace
}  // namespace epc::http::handlers
