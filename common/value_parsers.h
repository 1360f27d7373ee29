#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"

namespace epc::common {

// Parsers for configuration and input-file values, shared by every binary so that a setting reads
// the same in the extender, the device plugin and the tools. Each error names the text it got and
// what it expected; callers prefix the key or flag.

// A decimal integer in [min, max]: "20", "-3". No sign for unsigned ranges, no spaces, no suffix.
Result<std::int64_t> parse_int_in(std::string_view text, std::int64_t min, std::int64_t max);

// A byte amount as a Kubernetes quantity ("8Mi", "1Gi", "65536", "1e9") in [min, max] bytes.
Result<std::int64_t> parse_bytes_in(std::string_view text, std::int64_t min, std::int64_t max);

// A Go-style duration ("500ms", "30s", "1m30s") in [min_ms, max_ms] milliseconds.
Result<std::int64_t> parse_duration_ms_in(std::string_view text, std::int64_t min_ms,
                                          std::int64_t max_ms);

// "true" or "false", as YAML and Go's flag package write them.
Result<bool> parse_bool(std::string_view text);

}  // namespace epc::common
