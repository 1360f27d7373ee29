#pragma once

#include <cstdint>
#include <limits>

namespace epc::core {

// Saturating and widened integer arithmetic shared by the core. Resource amounts are int64 because
// Kubernetes quantities are; sums of many pods or absurd inputs must clamp, never wrap (wrapping
// would turn "too big" into "fits").

inline constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
inline constexpr std::int64_t kInt64Min = std::numeric_limits<std::int64_t>::min();

// GCC and Clang provide 128-bit integers; `__extension__` keeps -Wpedantic quiet about it.
__extension__ using Int128 = __int128;

inline std::int64_t clamp_to_int64(Int128 value) {
  if (value > kInt64Max) {
    return kInt64Max;
  }
  if (value < kInt64Min) {
    return kInt64Min;
  }
  return static_cast<std::int64_t>(value);
}

inline std::int64_t saturating_add(std::int64_t a, std::int64_t b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a, b, &sum)) {
    return b > 0 ? kInt64Max : kInt64Min;
  }
  return sum;
}

inline std::int64_t saturating_sub(std::int64_t a, std::int64_t b) {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(a, b, &difference)) {
    return b < 0 ? kInt64Max : kInt64Min;
  }
  return difference;
}

// a * b / c with a 128-bit intermediate, truncating toward zero like Go's int64 division.
// c == 0 yields 0 (callers document what a zero denominator means for them).
inline std::int64_t mul_div(std::int64_t a, std::int64_t b, std::int64_t c) {
  if (c == 0) {
    return 0;
  }
  // Fast path: a 64-bit product and division (a 128-bit division is a slow library call, and this
  // runs per node per request). The wide path only serves absurd, near-2^63 amounts.
  std::int64_t product = 0;
  if (!__builtin_mul_overflow(a, b, &product) && !(product == kInt64Min && c == -1)) {
    return product / c;
  }
  return clamp_to_int64(static_cast<Int128>(a) * b / c);
}

}  // namespace epc::core
