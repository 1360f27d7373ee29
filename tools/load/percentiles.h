#pragma once

#include <cstdint>
#include <vector>

namespace epc::tools::load {

// Order statistics of a set of durations, in milliseconds.
struct LatencySummary {
  std::size_t count = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double mean_ms = 0;
};

// Nearest-rank percentiles (the smallest sample with at least p % of the samples at or below it),
// so every figure is a latency that was actually seen. Empty input: all zero. Sorts `samples_ns`.
LatencySummary summarize_latencies(std::vector<std::int64_t>& samples_ns);

// The nearest-rank `percent` (0 < percent <= 100) of sorted samples; 0 when empty.
std::int64_t nearest_rank(const std::vector<std::int64_t>& sorted, double percent);

}  // namespace epc::tools::load
