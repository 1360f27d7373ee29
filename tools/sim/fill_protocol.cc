#include "tools/sim/fill_protocol.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <random>

#include "tools/sim/scheduler.h"
#include "tools/sim/sim_cluster.h"

namespace epc::tools::sim {
namespace {

// SimCluster::epc_free_at_start without building a cluster.
std::int64_t free_epc_at_start(const Trace& trace) {
  std::int64_t capacity = 0;
  std::int64_t used = 0;
  for (const SimNode& node : trace.nodes) {
    capacity += node.epc_bytes;
    used += node.epc_used_bytes;
  }
  return std::max<std::int64_t>(capacity - used, 0);
}

// The one stream of arrivals for a seed: pod indices uniformly at random, with replacement. Every
// sequence (fraction-bounded, counted) is a prefix of it. The trace must have pods.
class ArrivalDraw {
 public:
  ArrivalDraw(const Trace& trace, std::uint64_t seed)
      : draw_(seed), pick_(0, trace.pods.size() - 1) {}
  std::size_t next() { return pick_(draw_); }

 private:
  std::mt19937_64 draw_;
  std::uniform_int_distribution<std::size_t> pick_;
};

// For each pod of the list: does some node, as the run starts, take it?
std::vector<char> fits_some_node_at_start(const Trace& trace, const SimCluster& cluster) {
  std::vector<char> out(trace.pods.size(), 0);
  for (std::size_t p = 0; p < trace.pods.size(); ++p) {
    const PodDemand demand = demand_of(trace.pods[p]);
    for (std::size_t i = 0; i < cluster.size() && out[p] == 0; ++i) {
      out[p] = cluster.fits_at_start(i, demand) ? 1 : 0;
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
  const std::int64_t capacity = free_epc_at_start(trace);
  if (trace.pods.empty() || capacity <= 0) {
    return out;
  }
  const double target = arrived_fraction * static_cast<double>(capacity);
  ArrivalDraw draw(trace, seed);
  double arrived = 0.0;
  // A list of pods without EPC would never reach the target: bound the draws.
  const std::size_t max_draws = 100 * trace.pods.size() + 1'000'000;
  while (arrived < target && out.size() < max_draws) {
    const std::size_t p = draw.next();
    out.push_back(p);
    arrived += static_cast<double>(trace.pods[p].epc_bytes);
  }
  return out;
}

std::vector<std::size_t> draw_arrival_count(const Trace& trace, std::uint64_t seed,
                                            std::int64_t count) {
  std::vector<std::size_t> out;
  if (trace.pods.empty() || count <= 0) {
    return out;
  }
  ArrivalDraw draw(trace, seed);
  out.reserve(static_cast<std::size_t>(count));
  for (std::int64_t a = 0; a < count; ++a) {
    out.push_back(draw.next());
  }
  return out;
}

FillResult run_fill(const Trace& trace, const Strategy& strategy, std::uint64_t seed,
                    const FillOptions& options, const ProgressFn& progress) {
  SimCluster cluster(trace.nodes);
  Scheduler scheduler(strategy, seed);
  const std::vector<char> fits_at_start = fits_some_node_at_start(trace, cluster);
  const bool what_if = options.arrivals > 0;
  // The standard sequence is drawn up front (its length depends on the pods' EPC). A what-if run
  // draws its pods as it goes, from the same stream, so 10^7 arrivals need no list of them.
  std::vector<std::size_t> drawn;
  std::optional<ArrivalDraw> draw;
  std::int64_t total = 0;
  if (what_if) {
    if (!trace.pods.empty()) {
      draw.emplace(trace, seed);
      total = options.arrivals;
    }
  } else {
    drawn = draw_arrivals(trace, seed, options.stop_at_arrived);
    total = static_cast<std::int64_t>(drawn.size());
  }

  FillResult result;
  result.cluster_epc_bytes = cluster.epc_capacity();
  result.used_at_start_epc_bytes = cluster.epc_used_at_start();
  const std::int64_t free_at_start = cluster.epc_free_at_start();
  result.first_fitting_rejection = options.stop_at_arrived;
  bool full_reached = false;
  bool fitting_rejected = false;
  double next_curve_point = 0.0;
  for (std::int64_t a = 0; a < total; ++a) {
    const std::size_t p = what_if ? draw->next() : drawn[static_cast<std::size_t>(a)];
    const SimPod& pod = trace.pods[p];
    const PodDemand demand = demand_of(pod);
    ++result.arrived_pods;
    result.arrived_epc_bytes += pod.epc_bytes;
    if (const std::optional<std::size_t> node = scheduler.schedule(cluster, demand)) {
      cluster.place(*node, demand);
      ++result.placed_pods;
      result.placed_epc_bytes += pod.epc_bytes;
    } else {
      ++result.rejected_pods;
      result.rejected_epc_bytes += pod.epc_bytes;
      if (!fitting_rejected && fits_at_start[p] != 0) {
        fitting_rejected = true;
        result.first_fitting_rejection = fraction(result.arrived_epc_bytes, free_at_start);
      }
    }
    const double arrived = fraction(result.arrived_epc_bytes, free_at_start);
    if (!full_reached && free_at_start > 0 && arrived >= 1.0) {
      full_reached = true;
      result.unallocated_at_full = 1.0 - fraction(result.placed_epc_bytes, free_at_start);
    }
    // A what-if run can arrive far past the free EPC; the curve stops at stop_at_arrived there
    // (placed cannot grow past 100% anyway) and gets its last point below.
    if (arrived >= next_curve_point && (!what_if || arrived <= options.stop_at_arrived)) {
      result.curve.push_back({arrived, fraction(result.placed_epc_bytes, free_at_start)});
      result.stayed_within_capacity = result.stayed_within_capacity && cluster.within_capacity();
      next_curve_point = arrived + options.curve_step;
    }
    if (progress && (a % 256 == 0 || a + 1 == total)) {
      progress(a + 1, total);
    }
  }
  if (what_if) {
    const CurvePoint end{fraction(result.arrived_epc_bytes, free_at_start),
                         fraction(result.placed_epc_bytes, free_at_start)};
    if (result.curve.empty() || result.curve.back().arrived != end.arrived) {
      result.curve.push_back(end);
    }
    if (!fitting_rejected) {
      result.first_fitting_rejection = end.arrived;
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
  result.used_at_start_epc_bytes = cluster.epc_used_at_start();
  const std::int64_t free_at_start = cluster.epc_free_at_start();
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
      result.rejected_epc_bytes += demand.sgx.epc_bytes;
    }
  }
  if (free_at_start > 0) {
    result.unallocated_at_full = 1.0 - fraction(result.placed_epc_bytes, free_at_start);
  }
  result.curve.push_back({fraction(result.arrived_epc_bytes, free_at_start),
                          fraction(result.placed_epc_bytes, free_at_start)});
  result.stayed_within_capacity = cluster.within_capacity();
  return result;
}

}  // namespace epc::tools::sim
