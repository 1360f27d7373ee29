#include "tools/demo/byte_format.h"

#include <array>
#include <cstdio>
#include <string_view>

namespace epc::tools::demo {

namespace {

struct Unit {
  std::int64_t bytes;
  std::string_view suffix;
};

constexpr std::array<Unit, 4> kUnits{{
    {kGiB * 1024, "Ti"},
    {kGiB, "Gi"},
    {kMiB, "Mi"},
    {kKiB, "Ki"},
}};

// Fixed point with two decimals, trailing zeros dropped ("93.50" -> "93.5", "8.00" -> "8").
std::string two_decimals(std::int64_t value, std::int64_t unit) {
  const std::int64_t hundredths = (value * 100 + unit / 2) / unit;
  std::string text = std::to_string(hundredths / 100);
  const std::int64_t fraction = hundredths % 100;
  if (fraction != 0) {
    char digits[4];
    std::snprintf(digits, sizeof(digits), "%02lld", static_cast<long long>(fraction));
    std::string_view decimals(digits);
    if (decimals.back() == '0') {
      decimals.remove_suffix(1);
    }
    text += '.';
    text += decimals;
  }
  return text;
}

}  // namespace

std::string format_bytes(std::int64_t bytes) {
  const bool negative = bytes < 0;
  const std::int64_t magnitude = negative ? -bytes : bytes;
  for (const Unit& unit : kUnits) {
    if (magnitude >= unit.bytes) {
      return (negative ? "-" : "") + two_decimals(magnitude, unit.bytes) + std::string(unit.suffix);
    }
  }
  return std::to_string(bytes);
}

std::string quantity_string(std::int64_t bytes) {
  if (bytes > 0 && bytes % kGiB == 0) {
    return std::to_string(bytes / kGiB) + "Gi";
  }
  if (bytes > 0 && bytes % kMiB == 0) {
    return std::to_string(bytes / kMiB) + "Mi";
  }
  return std::to_string(bytes);
}

std::string format_percent(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) {
    return "0.0%";
  }
  const std::int64_t tenths = (part * 1000 + whole / 2) / whole;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10) + "%";
}

}  // namespace epc::tools::demo
