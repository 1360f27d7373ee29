#include "tools/sim/fill_protocol.h"

#include <algorithm>
#include <numeric>
#include <random>

#include "tools/sim/scheduler.h"
#include "tools/sim/sim_cluster.h"

namespace epc::tools::sim {
namespace {

std::int64_t cluster_epc(const Trace& trace) {
  std::int64_t total = 0;
  for (const SimNode& node : trace.nodes) {
    total += node.epc_bytes;
  }
  return total;
}

// For each pod of the list: does some empty node take it?
std::vector<char> fits_some_empty_node(const Trace& trace, const SimCluster& cluster) {
  std::vector<char> out(trace.pods.size(), 0);
  for (std::size_t p = 0; p < trace.pods.size(); ++p) {
    const PodDemand demand = demand_of(trace.pods[p]);
    for (std::size_t i = 0; i < cluster.size() && out[p] == 0; ++i) {
      out[p] = cluster.fits_empty(i, demand) ? 1 : 0;
    }
  }
  return out;
}

double fraction(std::int64_t part, std::int64_t whole) {
  return whole > 0 ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

}  // namespace

std::vector<std::size_t> draw_arrivals(const Trace& trace, std::uint64_t seed,
                                       double arrived_fraction) {
  std::vector<std::size_t> out;
  const std::int64_t capacity = cluster_epc(trace);
  if (trace.pods.empty() || capacity <= 0) {
    return out;
  }
  const double target = arrived_fraction * static_cast<double>(capacity);
  std::mt19937_64 draw(seed);
  std::uniform_int_distribution<std::size_t> pick(0, trace.pods.size() - 1);
  double arrived = 0.0;
  // A list of pods without EPC would never reach the target: bound the draws.
  const std::size_t max_draws = 100 * trace.pods.size() + 1'000'000;
  while (arrived < target && out.size() < max_draws) {
    const std::size_t p = pick(draw);
    out.push_back(p);
    arrived += static_cast<double>(trace.pods[p].epc_bytes);
  }
  return out;
}

FillResult run_fill(const Trace& trace, const Strategy& strategy, std::uint64_t seed,
                    const FillOptions& options, const ProgressFn& progress) {
  SimCluster cluster(trace.nodes);
  Scheduler scheduler(strategy, seed);
  const std::vector<char> fits_empty = fits_some_empty_node(trace, cluster);
  const std::vector<std::size_t> arrivals = draw_arrivals(trace, seed, options.stop_at_arrived);

  FillResult result;
  result.cluster_epc_bytes = cluster.epc_capacity();
  result.first_fitting_rejection = options.stop_at_arrived;
  bool full_reached = false;
  bool fitting_rejected = false;
  double next_curve_point = 0.0;
  for (std::size_t a = 0; a < arrivals.size(); ++a) {
    const SimPod& pod = trace.pods[arrivals[a]];
    const PodDemand demand = demand_of(pod);
    ++result.arrived_pods;
    result.arrived_epc_bytes += pod.epc_bytes;
    if (const std::optional<std::size_t> node = scheduler.schedule(cluster, demand)) {
      cluster.place(*node, demand);
      ++result.placed_pods;
      result.placed_epc_bytes += pod.epc_bytes;
    } else {
      ++result.rejected_pods;
      if (!fitting_rejected && fits_empty[arrivals[a]] != 0) {
        fitting_rejected = true;
        result.first_fitting_rejection =
            fraction(result.arrived_epc_bytes, result.cluster_epc_bytes);
      }
    }
    const double arrived = fraction(result.arrived_epc_bytes, result.cluster_epc_bytes);
    if (!full_reached && arrived >= 1.0) {
      full_reached = true;
      result.unallocated_at_full =
          1.0 - fraction(result.placed_epc_bytes, result.cluster_epc_bytes);
    }
    if (arrived >= next_curve_point) {
      result.curve.push_back(
          {arrived, fraction(result.placed_epc_bytes, result.cluster_epc_bytes)});
      result.stayed_within_capacity = result.stayed_within_capacity && cluster.within_capacity();
      next_curve_point = arrived + options.curve_step;
    }
    if (progress && (a % 256 == 0 || a + 1 == arrivals.size())) {
      progress(static_cast<std::int64_t>(a + 1), static_cast<std::int64_t>(arrivals.size()));
    }
  }
  result.stayed_within_capacity = result.stayed_within_capacity && cluster.within_capacity();
  return result;
}

FillResult run_best_fit_decreasing(const Trace& trace, std::uint64_t seed) {
  SimCluster cluster(trace.nodes);
  std::vector<std::size_t> arrivals = draw_arrivals(trace, seed, 1.0);
  // Largest EPC first; CPU then memory break ties so the order does not depend on the draw order.
  std::stable_sort(arrivals.begin(), arrivals.end(), [&](std::size_t a, std::size_t b) {
    const SimPod& x = trace.pods[a];
    const SimPod& y = trace.pods[b];
    if (x.epc_bytes != y.epc_bytes) {
      return x.epc_bytes > y.epc_bytes;
    }
    if (x.cpu_milli != y.cpu_milli) {
      return x.cpu_milli > y.cpu_milli;
    }
    return x.memory_bytes > y.memory_bytes;
  });
  FillResult result;
  result.cluster_epc_bytes = cluster.epc_capacity();
  result.first_fitting_rejection = -1.0;  // offline: pods do not arrive in order
  for (const std::size_t p : arrivals) {
    const PodDemand demand = demand_of(trace.pods[p]);
    ++result.arrived_pods;
    result.arrived_epc_bytes += demand.sgx.epc_bytes;
    std::optional<std::size_t> best;
    std::int64_t best_left = 0;
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      if (!cluster.kube_fits(i, demand, true)) {
        continue;
      }
      const std::int64_t left = cluster.row(i).epc_capacity_bytes -
                                cluster.row(i).epc_requested_bytes - demand.sgx.epc_bytes;
      if (!best || left < best_left) {
        best = i;
        best_left = left;
      }
    }
    if (best) {
      cluster.place(*best, demand);
      ++result.placed_pods;
      result.placed_epc_bytes += demand.sgx.epc_bytes;
    } else {
      ++result.rejected_pods;
    }
  }
  result.unallocated_at_full = 1.0 - fraction(result.placed_epc_bytes, result.cluster_epc_bytes);
  result.curve.push_back({fraction(result.arrived_epc_bytes, result.cluster_epc_bytes),
                          fraction(result.placed_epc_bytes, result.cluster_epc_bytes)});
  result.stayed_within_capacity = cluster.within_capacity();
  return result;
}

}  // namespace epc::tools::sim
