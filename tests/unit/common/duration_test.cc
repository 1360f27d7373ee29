#include "common/duration.h"

#include <vector>

#include <gtest/gtest.h>

namespace epc::common {
namespace {

struct Row {
  const char* text;
  bool ok;
  std::int64_t ms;
};

TEST(DurationTest, Table) {
  const std::vector<Row> rows = {
      {"0", true, 0},
      {"500ms", true, 500},
      {"30s", true, 30000},
      {"2m", true, 120000},
      {"1h", true, 3600000},
      {"1m30s", true, 90000},        // 60000 + 30000
      {"1h1m1s1ms", true, 3661001},  // 3600000 + 60000 + 1000 + 1
      {"", false, 0},
      {"30", false, 0},  // no unit: ambiguous
      {"s", false, 0},
      {"1.5s", false, 0},
      {"-1s", false, 0},
      {"10 s", false, 0},
      {"5d", false, 0},
      {"1us", false, 0},
      {"9223372036854775807ms", true, 9223372036854775807},
      {"9223372036854775808ms", false, 0},  // INT64_MAX + 1
      {"9223372036854775807s", false, 0},   // overflows after scaling
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.text);
    auto result = parse_duration_ms(row.text);
    ASSERT_EQ(result.ok(), row.ok);
    if (row.ok) {
      EXPECT_EQ(*result, row.ms);
    } else {
      EXPECT_NE(result.error().message.find("invalid duration"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace epc::common
