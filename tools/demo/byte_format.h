#pragma once

#include <cstdint>
#include <string>

namespace epc::tools::demo {

inline constexpr std::int64_t kKiB = 1024;
inline constexpr std::int64_t kMiB = 1024 * kKiB;
inline constexpr std::int64_t kGiB = 1024 * kMiB;

// Bytes as a person reads them, in Kubernetes' binary suffixes: "512Mi", "93.5Mi", "1.25Gi", "0".
// At most two decimals, trailing zeros dropped; the largest suffix that gives a value >= 1.
std::string format_bytes(std::int64_t bytes);

// The same amount as a Kubernetes quantity string, exact: "512Mi" when the value is a whole number
// of Mi/Gi, otherwise the plain byte count ("98041856"). Pod specs carry these.
std::string quantity_string(std::int64_t bytes);

// "37.5%" with one decimal; 0 when the whole is 0.
std::string format_percent(std::int64_t part, std::int64_t whole);

}  // namespace epc::tools::demo
