#include "extender/core/score/normalize.h"

#include <algorithm>

#include "extender/core/checked_math.h"
#include "extender/core/score/policy.h"

namespace epc::core::score {

namespace {

inline std::int64_t normalize_impl(std::int64_t raw, std::int64_t max_raw) {
  if (max_raw <= 0 || raw <= 0) {
    return kMinExtenderScore;
  }
  return std::clamp(mul_div(raw, kMaxExtenderScore, max_raw), kMinExtenderScore, kMaxExtenderScore);
}

}  // namespace

std::int64_t normalize_score(std::int64_t raw, std::int64_t max_raw) {
  return normalize_impl(raw, max_raw);
}

void normalize_scores(std::span<std::int64_t> scores) {
  std::int64_t max_raw = 0;
  for (std::int64_t raw : scores) {
    max_raw = std::max(max_raw, raw);
  }
  if (max_raw > 0 && max_raw <= kInt64Max / kMaxExtenderScore) {
    // normalize_impl without mul_div's overflow checks: every raw is <= max_raw, so raw · 10
    // fits int64, and the quotient is already within 0..10.
    for (std::int64_t& score : scores) {
      score = score <= 0 ? kMinExtenderScore : score * kMaxExtenderScore / max_raw;
    }
    return;
  }
  for (std::int64_t& score : scores) {
    score = normalize_impl(score, max_raw);
  }
}

}  // namespace epc::core::score
