#include "extender/http/handlers/node_lookup.h"

#include <string>
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
  ResolverMemo memo;
  std::vector<std::uint32_t> indices;
  const std::vector<std::string_view> names = {"c", "x", "a"};
  resolve_nodes(names, snapshot, memo, indices);
  EXPECT_THAT(indices, ElementsAre(2u, kUnknownNode, 0u));
}

TEST(ResolveNodes, remembered_indices_are_checked_against_the_new_snapshot) {
  ResolverMemo memo;
  std::vector<std::uint32_t> indices;
  const std::vector<std::string_view> names = {"a", "b", "c"};
  resolve_nodes(names, snapshot_of({"a", "b", "c"}), memo, indices);
  EXPECT_THAT(indices, ElementsAre(0u, 1u, 2u));
  // Same request against a snapshot where the rows moved and "b" left: the memo must not be
  // trusted blindly.
  resolve_nodes(names, snapshot_of({"c", "a"}), memo, indices);
  EXPECT_THAT(indices, ElementsAre(1u, kUnknownNode, 0u));
  // "b" is back at a new index: an unknown memo entry is looked up again.
  resolve_nodes(names, snapshot_of({"c", "a", "b"}), memo, indices);
  EXPECT_THAT(indices, ElementsAre(1u, 2u, 0u));
}

TEST(ResolveNodes, different_lists_on_one_connection) {
  const state::ClusterSnapshot snapshot = snapshot_of({"a", "b", "c", "d"});
  ResolverMemo memo;
  std::vector<std::uint32_t> indices;
  resolve_nodes(std::vector<std::string_view>{"d", "c", "b", "a"}, snapshot, memo, indices);
  resolve_nodes(std::vector<std::string_view>{"b"}, snapshot, memo, indices);
  EXPECT_THAT(indices, ElementsAre(1u));
  resolve_nodes(std::vector<std::string_view>{"a", "b", "c", "d", "e"}, snapshot, memo, indices);
  EXPECT_THAT(indices, ElementsAre(0u, 1u, 2u, 3u, kUnknownNode));
  resolve_nodes(std::vector<std::string_view>{}, snapshot, memo, indices);
  EXPECT_TRUE(indices.empty());
}

// The number of hash lookups one request of `names` costs after `before` was resolved on the
// same memo, and the rows it found.
std::size_t lookups_after(const std::vector<std::string>& before,
                          const std::vector<std::string>& names,
                          const state::ClusterSnapshot& snapshot,
                          std::vector<std::uint32_t>& indices) {
  ResolverMemo memo;
  {
    NodeResolver first(snapshot, memo, before.size());
    for (std::size_t i = 0; i < before.size(); ++i) {
      first.resolve(i, before[i]);
    }
  }
  NodeResolver resolver(snapshot, memo, names.size());
  indices.clear();
  for (std::size_t i = 0; i < names.size(); ++i) {
    indices.push_back(resolver.resolve(i, names[i]));
  }
  return resolver.lookups();
}

class ShiftedLists : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 100; ++i) {
      names_.push_back("node-" + std::to_string(i));
      snapshot_.add(test::info(names_.back()), test::sgx_row(64));
    }
  }
  // Row of each name, found the slow way.
  std::vector<std::uint32_t> expected(const std::vector<std::string>& names) const {
    std::vector<std::uint32_t> rows;
    for (const std::string& name : names) {
      const auto found = snapshot_.find(name);
      rows.push_back(found ? *found : kUnknownNode);
    }
    return rows;
  }
  std::vector<std::string> names_;
  state::ClusterSnapshot snapshot_;
};

TEST_F(ShiftedLists, the_same_list_again_costs_no_lookup) {
  std::vector<std::uint32_t> indices;
  EXPECT_EQ(lookups_after(names_, names_, snapshot_, indices), 0u);
  EXPECT_EQ(indices, expected(names_));
}

TEST_F(ShiftedLists, a_node_leaving_or_joining_the_list_costs_one_lookup_at_most) {
  std::vector<std::uint32_t> indices;
  std::vector<std::string> without = names_;
  without.erase(without.begin() + 30);  // filled up: prioritize no longer gets it
  EXPECT_EQ(lookups_after(names_, without, snapshot_, indices), 0u);
  EXPECT_EQ(indices, expected(without));
  // Back again: every later position moves one place the other way.
  EXPECT_LE(lookups_after(without, names_, snapshot_, indices), 1u);
  EXPECT_EQ(indices, expected(names_));
  // Several changes in one list, both ways.
  std::vector<std::string> changed = without;
  changed.erase(changed.begin() + 70);
  changed.erase(changed.begin() + 10);
  changed.insert(changed.begin() + 50, "node-30");
  EXPECT_LE(lookups_after(without, changed, snapshot_, indices), 3u);
  EXPECT_EQ(indices, expected(changed));
}

TEST_F(ShiftedLists, unknown_and_reordered_names_fall_back_to_the_index) {
  std::vector<std::uint32_t> indices;
  std::vector<std::string> reversed(names_.rbegin(), names_.rend());
  reversed.insert(reversed.begin() + 5, "never-reported");
  EXPECT_GT(lookups_after(names_, reversed, snapshot_, indices), 50u);
  EXPECT_EQ(indices, expected(reversed));
  EXPECT_EQ(indices[5], kUnknownNode);
}

}  // namespace
}  // namespace epc::http::handlers
