#include "extender/core/score/normalize.h"

#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::core::score {
namespace {

constexpr std::int64_t kInt64Max = INT64_MAX;

struct Row {
  std::string_view name;
  std::vector<std::int64_t> raw;
  std::vector<std::int64_t> want;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const Row& row, std::ostream* os) { *os << row.name; }

const std::vector<Row>& rows() {
  static const std::vector<Row> kRows = {
      // max 100: 100·10/100 = 10, 50·10/100 = 5, 0.
      {"Proportional", {100, 50, 0}, {10, 5, 0}},
      // max 3: 10, 2·10/3 = 6.67 → 6, 1·10/3 = 3.33 → 3.
      {"RoundsDown", {3, 2, 1}, {10, 6, 3}},
      // A single candidate is the best: 10.
      {"Single", {7}, {10}},
      // All equal: all best.
      {"AllEqual", {60, 60, 60}, {10, 10, 10}},
      // All zero: no preference, all 0.
      {"AllZero", {0, 0}, {0, 0}},
      // No candidates.
      {"Empty", {}, {}},
      // Negative raw (never produced by policies) counts as 0.
      {"NegativeIsZero", {-5, 10}, {0, 10}},
      // Only negatives: max ≤ 0 → all 0.
      {"AllNegative", {-5, -1}, {0, 0}},
      // Huge raws: INT64_MAX/2 · 10/INT64_MAX = 4.99 → 4, no overflow.
      {"Huge", {kInt64Max, kInt64Max / 2}, {10, 4}},
      // Fine raws near the top: 999999·10/10^6 = 9.99999 → 9.
      {"JustBelowBest", {1'000'000, 999'999}, {10, 9}},
  };
  return kRows;
}

class NormalizeTest : public testing::TestWithParam<Row> {};

TEST_P(NormalizeTest, Row) {
  std::vector<std::int64_t> scores = GetParam().raw;
  normalize_scores(scores);
  EXPECT_EQ(scores, GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Rows, NormalizeTest, testing::ValuesIn(rows()),
                         testing_support::RowName());

TEST(NormalizeScoreTest, ClampsAboveMax) {
  // A raw above the given max (caller passed a stale max) still maps to at most 10.
  EXPECT_EQ(normalize_score(300, 100), 10);
  EXPECT_EQ(normalize_score(50, 0), 0);  // no division by zero
}

}  // namespace
}  // namespace epc::core::score
