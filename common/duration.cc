#include "common/duration.h"

#include <limits>
#include <string>

namespace epc::common {

Result<std::int64_t> parse_duration_ms(std::string_view text) {
  const auto bad = [&](std::string_view why) {
    return Error{"invalid duration \"" + std::string(text) + "\": " + std::string(why) +
                 " (write e.g. 500ms, 30s, 1m30s)"};
  };
  if (text == "0") {
    return std::int64_t{0};
  }
  if (text.empty()) {
    return bad("empty");
  }
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::int64_t number = 0;
    const std::size_t digits_start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      const int digit = text[i] - '0';
      if (number > (kMax - digit) / 10) {
        return bad("too large");
      }
      number = number * 10 + digit;
      ++i;
    }
    if (i == digits_start) {
      return bad("expected a number");
    }
    const std::size_t unit_start = i;
    while (i < text.size() && text[i] >= 'a' && text[i] <= 'z') {
      ++i;
    }
    const std::string_view unit = text.substr(unit_start, i - unit_start);
    std::int64_t scale = 0;
    if (unit == "ms") {
      scale = 1;
    } else if (unit == "s") {
      scale = 1000;
    } else if (unit == "m") {
      scale = 60 * 1000;
    } else if (unit == "h") {
      scale = 60 * 60 * 1000;
    } else if (unit.empty()) {
      return bad("missing unit");
    } else {
      return bad("unknown unit \"" + std::string(unit) + "\"");
    }
    if (number > kMax / scale || total > kMax - number * scale) {
      return bad("too large");
    }
    total += number * scale;
  }
  return total;
}

std::string format_duration_ms(std::int64_t ms) {
  if (ms == 0) {
    return "0";
  }
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s" : std::to_string(ms) + "ms";
}

}  // namespace epc::common
