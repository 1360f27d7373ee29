#pragma once

#include <cstdint>
#include <string>

namespace epc::common {

inline constexpr std::int64_t kKiB = 1024;
inline constexpr std::int64_t kMiB = 1024 * kKiB;
inline constexpr std::int64_t kGiB = 1024 * kMiB;
inline constexpr std::int64_t kTiB = 1024 * kGiB;

// Bytes as a person reads them, in Kubernetes' binary suffixes: "512Mi", "93.5Mi", "1.25Gi", "0".
// At most two decimals, trailing zeros dropped; the largest suffix that gives a value >= 1. For
// logs, tables and error messages: it rounds, so it is not for writing a quantity back.
std::string format_bytes(std::int64_t bytes);

// The same amount as an exact Kubernetes quantity: the largest binary suffix that divides it
// ("8Mi", "2Ki", "3Ti"), otherwise the plain byte count ("98041856"). Parses back to the same
// value with parse_quantity_units, so configs, --help defaults and pod specs use it.
std::string quantity_string(std::int64_t bytes);

}  // namespace epc::common
