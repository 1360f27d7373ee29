#include "tools/load/percentiles.h"

#include <algorithm>
#include <cmath>

namespace epc::tools::load {

namespace {

constexpr double kNsPerMs = 1e6;

}  // namespace

std::int64_t nearest_rank(const std::vector<std::int64_t>& sorted, double percent) {
  if (sorted.empty()) {
    return 0;
  }
  // rank = ceil(p/100 * n), 1-based; p99 of 100 samples is the 99th smallest.
  const double rank = std::ceil(percent / 100.0 * static_cast<double>(sorted.size()));
  const auto index =
      static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(sorted.size()))) - 1;
  return sorted[index];
}

LatencySummary summarize_latencies(std::vector<std::int64_t>& samples_ns) {
  LatencySummary out;
  out.count = samples_ns.size();
  if (samples_ns.empty()) {
    return out;
  }
  std::sort(samples_ns.begin(), samples_ns.end());
  out.p50_ms = static_cast<double>(nearest_rank(samples_ns, 50)) / kNsPerMs;
  out.p90_ms = static_cast<double>(nearest_rank(samples_ns, 90)) / kNsPerMs;
  out.p99_ms = static_cast<double>(nearest_rank(samples_ns, 99)) / kNsPerMs;
  out.max_ms = static_cast<double>(samples_ns.back()) / kNsPerMs;
  double sum = 0;
  for (const std::int64_t ns : samples_ns) {
    sum += static_cast<double>(ns);
  }
  out.mean_ms = sum / static_cast<double>(samples_ns.size()) / kNsPerMs;
  return out;
}

}  // namespace epc::tools::load
