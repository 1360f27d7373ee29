#pragma once

#include <cstdint>
#include <span>

namespace epc::core::score {

// The one mapping from raw policy scores to the extender scale 0..10 (MinExtenderPriority..
// MaxExtenderPriority). kube-scheduler multiplies an extender's score by the extender's weight and
// by MaxNodeScore / MaxExtenderPriority = 10, so 10 here weighs like 100 from an in-tree plugin.
//
// Details: with max_raw = the largest raw score among the candidates,
//   score = max_raw <= 0 ? 0 : clamp(raw · 10 / max_raw, 0, 10)   (integer division, rounds down)
// The best node always gets exactly 10 and the others keep their proportion to it. When every raw
// score is 0 (no candidate is better than another, e.g. the pod wants no scored resource) all get
// 0: no preference, so the extender does not tilt kube-scheduler's other plugins. Negative raw
// scores (never produced by our policies) count as 0.
std::int64_t normalize_score(std::int64_t raw, std::int64_t max_raw);

// Normalises `scores` in place. No allocation.
void normalize_scores(std::span<std::int64_t> scores);

}  // namespace epc::core::score
