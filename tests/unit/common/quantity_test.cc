#include "common/quantity.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include <gtest/gtest.h>

#include "tests/unit/extender/core/test_rows.h"

namespace epc::common {
namespace {

constexpr std::int64_t kKi = 1024;
constexpr std::int64_t kMi = kKi * 1024;
constexpr std::int64_t kGi = kMi * 1024;
constexpr std::int64_t kEi = kGi * 1024 * 1024 * 1024;
constexpr std::int64_t kInt64Max = INT64_MAX;

// One row: the input, and either the value or a fragment of the error message.
struct QuantityRow {
  std::string_view name;
  std::string_view text;
  std::optional<std::int64_t> want;
  std::string_view error_contains;
};

// Failure messages name the row instead of dumping its bytes.
void PrintTo(const QuantityRow& row, std::ostream* os) { *os << row.name; }

void check_row(const QuantityRow& row, const Result<std::int64_t>& got) {
  if (row.want.has_value()) {
    ASSERT_TRUE(got.ok()) << "input \"" << row.text << "\": " << got.error().message;
    EXPECT_EQ(*got, *row.want);
  } else {
    ASSERT_FALSE(got.ok()) << "input \"" << row.text << "\" parsed as " << *got;
    EXPECT_NE(got.error().message.find(row.error_contains), std::string::npos)
        << got.error().message;
    // Every error names the input it is about.
    EXPECT_EQ(got.error().message.rfind("invalid quantity \"", 0), 0u) << got.error().message;
  }
}

// ---------------------------------------------------------------------------------------------
// parse_quantity_units

const QuantityRow kUnitRows[] = {
    {"Plain", "1", 1, ""},
    {"Zero", "0", 0, ""},
    {"NegativeZero", "-0", 0, ""},
    {"PlusSignDecimalSi", "+1k", 1000, ""},           // +1 · 10^3
    {"Negative", "-1", -1, ""},                       // valid quantity; callers reject it
    {"Mebibytes", "512Mi", 512 * kMi, ""},            // 512 · 2^20 = 536870912
    {"Gibibyte", "1Gi", kGi, ""},                     // 2^30 = 1073741824
    {"HalfGibibyteIsWhole", "0.5Gi", 536870912, ""},  // 0.5 · 2^30 = 2^29
    {"FractionalKibi", "1.5Ki", 1536, ""},            // 1.5 · 1024
    {"LeadingDotKibi", ".5Ki", 512, ""},              // 0.5 · 1024
    {"TrailingDot", "5.", 5, ""},                     // "5." == 5
    {"LowerExponent", "1e3", 1000, ""},               // 1 · 10^3
    {"UpperExponent", "1E3", 1000, ""},               // E followed by digits is an exponent
    {"PlusExponent", "1e+3", 1000, ""},
    {"NegativeExponentWhole", "1000e-3", 1, ""},        // 1000 / 1000
    {"ExaNotExponent", "1E", 1000000000000000000, ""},  // bare E is exa: 10^18
    {"Mega", "100M", 100000000, ""},                    // 100 · 10^6
    {"MilliWhole", "1000m", 1, ""},                     // 1000 / 1000
    {"NanoWhole", "5000000000n", 5, ""},                // 5·10^9 / 10^9
    {"SevenExbi", "7Ei", 7 * kEi, ""},                  // 7 · 2^60 < 2^63
    {"Int64Max", "9223372036854775807", kInt64Max, ""},
    {"ZeroWithHugeExponent", "0e99999", 0, ""},  // 0 · anything = 0, no loop to 99999
    {"OneByteInGibi", "0.000000000931322574615478515625Gi", 1,
     ""},  // 2^-30 · 2^30 (21 sig. digits)
    {"ManyLeadingZeros", "000000000000000000000000000000000000000000000000000000000001", 1, ""},
    {"ManyTrailingFractionZeros", "1.000000000000000000000000000000000000000000000000000000000000",
     1, ""},

    {"Empty", "", std::nullopt, "empty string"},
    {"TrailingSpaceAfterSuffix", "12Mi ", std::nullopt, "trailing characters after suffix \"Mi\""},
    {"DigitAfterSuffix", "1Ki2", std::nullopt, "trailing characters after suffix \"Ki\""},
    {"LeadingSpace", " 1", std::nullopt, "expected a number"},
    {"TrailingSpace", "1 ", std::nullopt, "unknown suffix"},
    {"SuffixOnly", "Mi", std::nullopt, "expected a number"},
    {"DotOnly", ".", std::nullopt, "expected a number"},
    {"SignOnly", "+", std::nullopt, "expected a number"},
    {"DoubleSign", "--1", std::nullopt, "expected a number"},
    {"UpperCaseKilo", "1K", std::nullopt, "unknown suffix"},  // Kubernetes spells kilo "k"
    {"TwoDots", "1.2.3", std::nullopt, "unknown suffix"},
    {"BareLowerE", "1e", std::nullopt, "unknown suffix"},
    {"ExponentWithoutDigits", "1e+", std::nullopt, "exponent has no digits"},
    {"FractionalExponent", "1e3.5", std::nullopt, "trailing characters after the exponent"},
    {"ExponentBeyondInt32", "1e2147483648", std::nullopt, "exponent out of range"},
    {"HalfIsNotWhole", "0.5", std::nullopt, "not a whole number"},
    {"OneAndHalfIsNotWhole", "1.5", std::nullopt, "not a whole number"},
    {"MilliIsNotWholeCount", "100m", std::nullopt, "not a whole number"},      // 0.1
    {"MilliFractionNotWhole", "1500m", std::nullopt, "not a whole number"},    // 1.5
    {"NegativeExponentFraction", "1e-3", std::nullopt, "not a whole number"},  // 0.001
    {"HugeNegativeExponent", "1e-2147483647", std::nullopt, "not a whole number"},
    {"Int64MaxPlusOne", "9223372036854775808", std::nullopt, "out of range"},
    {"EightExbiOverflows", "8Ei", std::nullopt, "out of range"},       // 2^63
    {"AbsurdExbi", "9999999Ei", std::nullopt, "out of range"},         // ≈ 1.15 · 10^25
    {"ExponentOverflowsValue", "1e19", std::nullopt, "out of range"},  // 10^19 > 2^63 − 1
    {"MaxExponentOverflowsValue", "1e2147483647", std::nullopt, "out of range"},
    {"NegativeOverflow", "-9223372036854775808", std::nullopt, "out of range"},  // |x| > 2^63 − 1
    {"TooManySignificantDigits", "1.000000000000000000000000000000000000000000000000000000000001",
     std::nullopt, "too many significant digits"},
};

class ParseQuantityUnitsTest : public testing::TestWithParam<QuantityRow> {};

TEST_P(ParseQuantityUnitsTest, Row) {
  check_row(GetParam(), parse_quantity_units(GetParam().text));
}

INSTANTIATE_TEST_SUITE_P(Rows, ParseQuantityUnitsTest, testing::ValuesIn(kUnitRows),
                         core::testing_support::RowName());

// ---------------------------------------------------------------------------------------------
// parse_quantity_milli

const QuantityRow kMilliRows[] = {
    {"Millicores", "100m", 100, ""},
    {"WholeCores", "2", 2000, ""},  // 2 · 1000
    {"HalfCore", "0.5", 500, ""},
    {"OneThousandth", "1e-3", 1, ""},
    {"TenThousandthRoundsUp", "1e-4", 1, ""},         // 0.1 milli → 1
    {"NegativeRoundsAwayFromZero", "-1e-4", -1, ""},  // like MilliValue()
    {"NanoRoundsUp", "1n", 1, ""},                    // 10^-6 milli → 1
    {"HalfMilliRoundsUp", "0.0005", 1, ""},
    {"FractionRoundsUp", "1.0001", 1001, ""},  // 1000.1 → 1001
    {"Kibi", "1Ki", 1024000, ""},              // 1024 · 1000
    {"Int64MaxMilli", "9223372036854775807m", kInt64Max, ""},
    {"Int64MaxAsFraction", "9223372036854775.807", kInt64Max, ""},
    {"Zero", "0", 0, ""},
    {"OverflowAfterScaling", "9223372036854776", std::nullopt, "out of range"},  // ·1000 > 2^63
    {"Empty", "", std::nullopt, "empty string"},
    {"TrailingSpace", "12Mi ", std::nullopt, "trailing characters"},
};

class ParseQuantityMilliTest : public testing::TestWithParam<QuantityRow> {};

TEST_P(ParseQuantityMilliTest, Row) {
  check_row(GetParam(), parse_quantity_milli(GetParam().text));
}

INSTANTIATE_TEST_SUITE_P(Rows, ParseQuantityMilliTest, testing::ValuesIn(kMilliRows),
                         core::testing_support::RowName());

// ---------------------------------------------------------------------------------------------
// Error message shape

TEST(QuantityErrorTest, QuotesTheInput) {
  const Result<std::int64_t> got = parse_quantity_units("12Mi ");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().message,
            "invalid quantity \"12Mi \": trailing characters after suffix \"Mi\"");
}

TEST(QuantityErrorTest, LongInputIsTruncatedInTheMessage) {
  const std::string huge(100000, '7');
  const Result<std::int64_t> got = parse_quantity_units(huge + "x");
  ASSERT_FALSE(got.ok());
  EXPECT_LT(got.error().message.size(), 300u);  // the reply must not echo megabytes back
  EXPECT_NE(got.error().message.find("...\""), std::string::npos) << got.error().message;
}

TEST(QuantityErrorTest, ControlCharactersAreEscaped) {
  const Result<std::int64_t> got = parse_quantity_units(std::string_view("1\n\"", 3));
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("\"1\\x0a\\\"\""), std::string::npos) << got.error().message;
}

}  // namespace
}  // namespace epc::common
