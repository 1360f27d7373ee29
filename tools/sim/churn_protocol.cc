#include "tools/sim/churn_protocol.h"

#include <algorithm>
#include <functional>
#include <queue>
#include <random>

#include "tools/sim/scheduler.h"
#include "tools/sim/sim_cluster.h"

namespace epc::tools::sim {
namespace {

constexpr std::size_t kRejected = static_cast<std::size_t>(-1);

struct Departure {
  std::int64_t time_s = 0;
  std::uint64_t order = 0;  // arrival order: equal times depart first-in first-out
  std::size_t node = kRejected;
  std::size_t pod = 0;
  friend bool operator>(const Departure& a, const Departure& b) {
    return a.time_s != b.time_s ? a.time_s > b.time_s : a.order > b.order;
  }
};

}  // namespace

common::Result<ChurnResult> run_churn(const Trace& trace, const Strategy& strategy,
                                      std::uint64_t seed, const ChurnOptions& options,
                                      const ProgressFn& progress) {
  std::vector<std::size_t> with_lifetime;
  for (std::size_t p = 0; p < trace.pods.size(); ++p) {
    if (trace.pods[p].lifetime_s >= 0) {
      with_lifetime.push_back(p);
    }
  }
  if (with_lifetime.empty()) {
    return common::Error{"churn needs pod lifetimes, and no pod in the list has one"};
  }
  SimCluster cluster(trace.nodes);
  Scheduler scheduler(strategy, seed);
  std::mt19937_64 draw(seed);
  std::uniform_int_distribution<std::size_t> pick(0, with_lifetime.size() - 1);
  std::priority_queue<Departure, std::vector<Departure>, std::greater<>> departures;

  ChurnResult result;
  result.cluster_epc_bytes = cluster.epc_capacity();
  // Pre-existing pods never leave: the load is offered to, and placed is a fraction of, what they
  // leave free (the whole cluster when they hold nothing).
  const std::int64_t free_at_start = cluster.epc_free_at_start();
  const double target = options.offered_load * static_cast<double>(free_at_start);
  const auto warmup_end =
      static_cast<std::int64_t>(options.warmup * static_cast<double>(options.arrivals));
  std::vector<std::int64_t> largest;
  double placed_sum = 0.0;
  std::int64_t offered = 0;
  std::int64_t now = 0;
  std::int64_t arrived = 0;
  std::int64_t rejected_total = 0;
  while (arrived < options.arrivals) {
    if (static_cast<double>(offered) >= target && !departures.empty()) {
      const Departure leaving = departures.top();
      departures.pop();
      now = leaving.time_s;
      const PodDemand demand = demand_of(trace.pods[leaving.pod]);
      if (leaving.node != kRejected) {
        cluster.remove(leaving.node, demand);
      }
      offered -= demand.sgx.epc_bytes;
      continue;
    }
    const std::size_t p = with_lifetime[pick(draw)];
    const SimPod& pod = trace.pods[p];
    const PodDemand demand = demand_of(pod);
    const std::optional<std::size_t> node = scheduler.schedule(cluster, demand);
    if (node) {
      cluster.place(*node, demand);
    } else {
      ++rejected_total;
    }
    departures.push(Departure{now + pod.lifetime_s, static_cast<std::uint64_t>(arrived),
                              node.value_or(kRejected), p});
    offered += pod.epc_bytes;
    ++arrived;
    if (arrived > warmup_end) {
      ++result.counted_arrivals;
      result.counted_epc_bytes += pod.epc_bytes;
      if (!node) {
        ++result.rejected_pods;
        result.rejected_epc_bytes += pod.epc_bytes;
      }
    }
    if (arrived % options.sample_every == 0) {
      const ChurnSample sample{arrived, rejected_total,
                               static_cast<double>(cluster.epc_placed()) /
                                   static_cast<double>(std::max<std::int64_t>(free_at_start, 1)),
                               cluster.largest_placeable_epc()};
      result.samples.push_back(sample);
      result.stayed_within_capacity = result.stayed_within_capacity && cluster.within_capacity();
      if (arrived > warmup_end) {
        largest.push_back(sample.largest_placeable_epc);
        placed_sum += sample.placed;
      }
    }
    if (progress && (arrived % 256 == 0 || arrived == options.arrivals)) {
      progress(arrived, options.arrivals);
    }
  }
  if (!largest.empty()) {
    result.mean_placed = placed_sum / static_cast<double>(largest.size());
    const auto middle = largest.begin() + static_cast<std::ptrdiff_t>(largest.size() / 2);
    std::nth_element(largest.begin(), middle, largest.end());
    result.median_largest_placeable_epc = *middle;
  }
  result.stayed_within_capacity = result.stayed_within_capacity && cluster.within_capacity();
  return result;
}

}  // namespace epc::tools::sim
