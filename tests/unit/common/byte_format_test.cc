#include "common/byte_format.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "common/quantity.h"

namespace epc::common {
namespace {

struct ByteRow {
  const char* name;
  std::int64_t bytes;
  const char* human;  // format_bytes
  const char* exact;  // quantity_string
};

class ByteFormatTest : public ::testing::TestWithParam<ByteRow> {};

TEST_P(ByteFormatTest, formats_as_a_person_and_as_a_quantity) {
  const ByteRow& row = GetParam();
  EXPECT_EQ(format_bytes(row.bytes), row.human);
  EXPECT_EQ(quantity_string(row.bytes), row.exact);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ByteFormatTest,
    ::testing::Values(
        ByteRow{"zero", 0, "0", "0"}, ByteRow{"below_one_kib", 1000, "1000", "1000"},
        // 4096 = 4 Ki exactly.
        ByteRow{"four_kib", 4096, "4Ki", "4Ki"},
        // 1536 = 1.5 Ki: no binary suffix divides it, so the exact form is the byte count.
        ByteRow{"one_and_a_half_kib", 1536, "1.5Ki", "1536"},
        // 98041856 = 93 Mi + 512 Ki = 93.5 Mi, and 95744 Ki exactly.
        ByteRow{"nuc_epc", 98041856, "93.5Mi", "95744Ki"},
        // 1.25 Gi = 1280 Mi.
        ByteRow{"one_and_a_quarter_gib", 1342177280, "1.25Gi", "1280Mi"},
        // 1 Gi − 1 byte rounds to 1024 Mi in two decimals: the carry lifts the whole part.
        ByteRow{"rounds_up_into_the_next_whole", (std::int64_t{1} << 30) - 1, "1024Mi",
                "1073741823"},
        ByteRow{"sixty_four_gib", std::int64_t{64} << 30, "64Gi", "64Gi"},
        ByteRow{"three_tib", std::int64_t{3} << 40, "3Ti", "3Ti"},
        ByteRow{"negative", -(std::int64_t{512} << 20), "-512Mi", "-512Mi"},
        // INT64_MAX = 8 Ei − 1: 8192 Pi after rounding; no suffix divides it.
        ByteRow{"largest", std::numeric_limits<std::int64_t>::max(), "8192Pi",
                "9223372036854775807"},
        // INT64_MIN = −8 Ei = −8192 Pi, exactly.
        ByteRow{"smallest", std::numeric_limits<std::int64_t>::min(), "-8192Pi", "-8192Pi"}),
    [](const ::testing::TestParamInfo<ByteRow>& row_info) {
      return std::string(row_info.param.name);
    });

TEST(QuantityStringTest, parses_back_to_the_same_bytes) {
  for (const std::int64_t bytes :
       {std::int64_t{1}, std::int64_t{1023}, std::int64_t{4096}, std::int64_t{98041856},
        std::int64_t{3} << 40, (std::int64_t{1} << 50) * 5, std::int64_t{123456789}}) {
    const Result<std::int64_t> parsed = parse_quantity_units(quantity_string(bytes));
    ASSERT_TRUE(parsed.ok()) << quantity_string(bytes) << ": " << parsed.error().message;
    EXPECT_EQ(*parsed, bytes) << quantity_string(bytes);
  }
}

}  // namespace
}  // namespace epc::common
