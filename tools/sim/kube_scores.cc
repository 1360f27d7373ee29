#include "tools/sim/kube_scores.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>

namespace epc::tools::sim {
namespace {

template <typename PerResource>
std::int64_t weighted_average(std::span<const ScoredResource> resources, PerResource score) {
  std::int64_t sum = 0;
  std::int64_t weights = 0;
  for (const ScoredResource& r : resources) {
    if (r.capacity <= 0) {
      continue;
    }
    sum += score(r.requested, r.capacity) * r.weight;
    weights += r.weight;
  }
  return weights == 0 ? 0 : sum / weights;
}

}  // namespace

std::int64_t least_requested_score(std::int64_t requested, std::int64_t capacity) {
  if (capacity <= 0 || requested > capacity) {
    return 0;
  }
  return (capacity - requested) * kMaxNodeScore / capacity;
}

std::int64_t most_requested_score(std::int64_t requested, std::int64_t capacity) {
  if (capacity <= 0) {
    return 0;
  }
  return std::min(requested, capacity) * kMaxNodeScore / capacity;
}

std::int64_t least_allocated_score(std::span<const ScoredResource> resources) {
  return weighted_average(resources, least_requested_score);
}

std::int64_t most_allocated_score(std::span<const ScoredResource> resources) {
  return weighted_average(resources, most_requested_score);
}

std::int64_t balanced_allocation_score(std::span<const ScoredResource> resources) {
  constexpr std::size_t kMaxResources = 8;
  std::array<double, kMaxResources> fractions{};
  std::size_t count = 0;
  double total = 0.0;
  for (const ScoredResource& r : resources) {
    if (r.capacity <= 0 || count == kMaxResources) {
      continue;
    }
    const double fraction =
        std::min(static_cast<double>(r.requested) / static_cast<double>(r.capacity), 1.0);
    fractions[count++] = fraction;
    total += fraction;
  }
  double std_dev = 0.0;
  if (count == 2) {
    std_dev = std::abs((fractions[0] - fractions[1]) / 2.0);
  } else if (count > 2) {
    const double mean = total / static_cast<double>(count);
    double sum = 0.0;
    for (std::size_t i = 0; i < count; ++i) {
      sum += (fractions[i] - mean) * (fractions[i] - mean);
    }
    std_dev = std::sqrt(sum / static_cast<double>(count));
  }
  return static_cast<std::int64_t>((1.0 - std_dev) * static_cast<double>(kMaxNodeScore));
}

}  // namespace epc::tools::sim
