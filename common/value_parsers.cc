#include "common/value_parsers.h"

#include <charconv>
#include <string>

#include "common/byte_format.h"
#include "common/duration.h"
#include "common/quantity.h"

namespace epc::common {

namespace {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

}  // namespace

Result<std::int64_t> parse_int_in(std::string_view text, std::int64_t min, std::int64_t max) {
  std::int64_t value = 0;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return Error{quoted(text) + " is not an integer"};
  }
  if (value < min || value > max) {
    return Error{quoted(text) + " is out of range " + std::to_string(min) + ".." +
                 std::to_string(max)};
  }
  return value;
}

Result<std::int64_t> parse_bytes_in(std::string_view text, std::int64_t min, std::int64_t max) {
  const Result<std::int64_t> value = parse_quantity_units(text);
  if (!value.ok()) {
    return Error{value.error().message + " (a byte quantity: e.g. 8Mi, 1Gi, 65536)"};
  }
  if (*value < min || *value > max) {
    return Error{quoted(text) + " is out of range " + quantity_string(min) + ".." +
                 quantity_string(max)};
  }
  return *value;
}

Result<std::int64_t> parse_duration_ms_in(std::string_view text, std::int64_t min_ms,
                                          std::int64_t max_ms) {
  const Result<std::int64_t> value = parse_duration_ms(text);
  if (!value.ok()) {
    return value.error();
  }
  if (*value < min_ms || *value > max_ms) {
    return Error{quoted(text) + " is out of range " + format_duration_ms(min_ms) + ".." +
                 format_duration_ms(max_ms)};
  }
  return *value;
}

Result<bool> parse_bool(std::string_view text) {
  if (text == "true") {
    return true;
  }
  if (text == "false") {
    return false;
  }
  return Error{quoted(text) + " is not true or false"};
}

}  // namespace epc::common
