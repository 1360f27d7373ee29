#include "common/byte_format.h"

#include <array>
#include <limits>
#include <string_view>

namespace epc::common {

namespace {

struct Unit {
  std::int64_t bytes;
  std::string_view suffix;
};

constexpr std::array<Unit, 5> kUnits{{
    {kTiB * 1024, "Pi"},
    {kTiB, "Ti"},
    {kGiB, "Gi"},
    {kMiB, "Mi"},
    {kKiB, "Ki"},
}};

// value / unit with two decimals, rounded half up, trailing zeros dropped ("93.50" -> "93.5",
// "8.00" -> "8"). Whole part and remainder are split first so nothing overflows near INT64_MAX.
std::string two_decimals(std::uint64_t value, std::uint64_t unit) {
  std::uint64_t whole = value / unit;
  std::uint64_t hundredths = ((value % unit) * 100 + unit / 2) / unit;  // remainder < 2^50
  if (hundredths == 100) {
    ++whole;
    hundredths = 0;
  }
  std::string text = std::to_string(whole);
  if (hundredths != 0) {
    text += '.';
    text += static_cast<char>('0' + hundredths / 10);
    if (hundredths % 10 != 0) {
      text += static_cast<char>('0' + hundredths % 10);
    }
  }
  return text;
}

}  // namespace

std::string format_bytes(std::int64_t bytes) {
  const bool negative = bytes < 0;
  // Magnitude in unsigned arithmetic: -INT64_MIN does not fit int64.
  const std::uint64_t magnitude = negative ? std::uint64_t{0} - static_cast<std::uint64_t>(bytes)
                                           : static_cast<std::uint64_t>(bytes);
  for (const Unit& unit : kUnits) {
    const auto unit_bytes = static_cast<std::uint64_t>(unit.bytes);
    if (magnitude >= unit_bytes) {
      return (negative ? "-" : "") + two_decimals(magnitude, unit_bytes) + std::string(unit.suffix);
    }
  }
  return std::to_string(bytes);
}

std::string quantity_string(std::int64_t bytes) {
  for (const Unit& unit : kUnits) {
    if (bytes != 0 && bytes % unit.bytes == 0) {
      return std::to_string(bytes / unit.bytes) + std::string(unit.suffix);
    }
  }
  return std::to_string(bytes);
}

}  // namespace epc::common
