#include "extender/core/score/top_tie_break.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <set>
#include <string_view>

#include <gtest/gtest.h>

namespace epc::core::score {
namespace {

TEST(SingleOutTopScore, OneTiedNodeKeepsTheTopAndTheOthersDropByOne) {
  std::array<std::int64_t, 5> scores{10, 4, 10, 9, 10};
  const std::array<std::uint64_t, 5> keys{11, 12, 13, 14, 15};
  single_out_top_score(scores, keys, 7);
  EXPECT_EQ(std::count(scores.begin(), scores.end(), 10), 1);
  EXPECT_EQ(scores[1], 4);  // below the top: untouched
  EXPECT_EQ(scores[3], 9);
  for (const std::size_t i : {0U, 2U, 4U}) {
    EXPECT_TRUE(scores[i] == 10 || scores[i] == 9) << i;
  }
}

TEST(SingleOutTopScore, SameSaltSameChoiceAndSaltsSpreadTheChoice) {
  const std::array<std::uint64_t, 4> keys{100, 200, 300, 400};
  const auto chosen = [&](std::uint64_t salt) {
    std::array<std::int64_t, 4> scores{10, 10, 10, 10};
    single_out_top_score(scores, keys, salt);
    return static_cast<std::size_t>(std::find(scores.begin(), scores.end(), 10) - scores.begin());
  };
  EXPECT_EQ(chosen(42), chosen(42));
  std::set<std::size_t> seen;
  for (std::uint64_t salt = 0; salt < 200; ++salt) {
    seen.insert(chosen(salt));
  }
  EXPECT_EQ(seen.size(), 4U);  // every tied node gets picked for some pod
}

TEST(SingleOutTopScore, NothingToDoWithoutPreferenceOrTies) {
  std::array<std::int64_t, 3> zeros{0, 0, 0};
  single_out_top_score(zeros, std::array<std::uint64_t, 3>{1, 2, 3}, 5);
  EXPECT_EQ(zeros, (std::array<std::int64_t, 3>{0, 0, 0}));
  std::array<std::int64_t, 3> unique{10, 7, 3};
  single_out_top_score(unique, std::array<std::uint64_t, 3>{1, 2, 3}, 5);
  EXPECT_EQ(unique, (std::array<std::int64_t, 3>{10, 7, 3}));
  std::array<std::int64_t, 1> single{10};
  single_out_top_score(single, std::array<std::uint64_t, 1>{1}, 5);
  EXPECT_EQ(single[0], 10);
}

TEST(StableHash, DependsOnEveryByte) {
  constexpr std::string_view a = "0f3c9a4e-uid-a";
  constexpr std::string_view b = "0f3c9a4e-uid-b";
  EXPECT_EQ(stable_hash(a), stable_hash(a));
  EXPECT_NE(stable_hash(a), stable_hash(b));
  EXPECT_NE(stable_hash(std::string_view{}), stable_hash(std::string_view{"x"}));
}

}  // namespace
}  // namespace epc::core::score
