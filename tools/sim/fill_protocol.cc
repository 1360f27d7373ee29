#include "tools/sim/fill_protocol.h"

#include <algorithm>
#include <limits>
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

// ---------------------------------------------------------------------------------------------
// The offline packer.

// Every node's free capacity, one dense array per dimension: the packer scans all nodes for every
// pod of every order (1,523 nodes × 10^4 pods × 16 orders on openb), and the scan reads only
// these, not SimCluster's rows.
struct FreeCapacity {
  std::vector<std::int64_t> epc;
  std::vector<std::int64_t> cpu_milli;
  std::vector<std::int64_t> memory_bytes;
  std::vector<std::int64_t> enclave_slots;
  std::vector<std::int64_t> pods;
};

// As SimCluster starts: pre-existing EPC, slots and pods taken; their CPU and memory not modelled.
FreeCapacity free_capacity_at_start(const Trace& trace) {
  FreeCapacity free;
  for (const SimNode& node : trace.nodes) {
    free.epc.push_back(node.epc_bytes - node.epc_used_bytes);
    free.cpu_milli.push_back(node.cpu_milli);
    free.memory_bytes.push_back(node.memory_bytes);
    free.enclave_slots.push_back(node.enclave_slots - node.enclave_slots_used);
    free.pods.push_back(node.max_pods - node.pods_used);
  }
  return free;
}

constexpr std::size_t kNoNode = std::numeric_limits<std::size_t>::max();

// Packs `order` from `free` (a copy: each order starts from the same cluster). Each pod goes to
// the node where it leaves the least EPC free among those where it fits in every dimension
// (SimCluster::kube_fits with EPC), ties to the lowest index. node_of[a] is order[a]'s node, or
// kNoNode when none takes it. Returns the EPC placed.
std::int64_t pack_best_fit(const Trace& trace, const std::vector<std::size_t>& order,
                           FreeCapacity free, std::vector<std::size_t>& node_of) {
  node_of.assign(order.size(), kNoNode);
  const std::size_t nodes = free.epc.size();
  std::int64_t placed = 0;
  for (std::size_t a = 0; a < order.size(); ++a) {
    const SimPod& pod = trace.pods[order[a]];
    std::size_t best = kNoNode;
    std::int64_t best_left = std::numeric_limits<std::int64_t>::max();
    for (std::size_t i = 0; i < nodes; ++i) {
      // EPC first: it is the ranking, and a node no better than the best so far needs no more
      // checks (>= keeps the lowest index among ties).
      const std::int64_t left = free.epc[i] - pod.epc_bytes;
      if (left < 0 || left >= best_left) {
        continue;
      }
      if (free.cpu_milli[i] < pod.cpu_milli || free.memory_bytes[i] < pod.memory_bytes ||
          free.enclave_slots[i] < pod.enclave_slots || free.pods[i] < 1) {
        continue;
      }
      best = i;
      best_left = left;
      if (left == 0) {
        break;  // nothing fits tighter
      }
    }
    if (best == kNoNode) {
      continue;
    }
    node_of[a] = best;
    free.epc[best] -= pod.epc_bytes;
    free.cpu_milli[best] -= pod.cpu_milli;
    free.memory_bytes[best] -= pod.memory_bytes;
    free.enclave_slots[best] -= pod.enclave_slots;
    free.pods[best] -= 1;
    placed += pod.epc_bytes;
  }
  return placed;
}

// Separate from the arrival stream's seed use, so the orders are not the arrivals reshuffled by
// the same numbers.
constexpr std::uint64_t kOfflineOrderStream = 0x6a09e667f3bcc908ULL;

// Puts the arrivals in `order` into offline order k (see run_best_offline). Order k depends on
// (seed, k) and the arrival multiset only.
void arrange_offline_order(const Trace& trace, std::uint64_t seed, int k,
                           std::vector<std::size_t>& order) {
  const auto larger_epc = [&](std::size_t a, std::size_t b) {
    return trace.pods[a].epc_bytes > trace.pods[b].epc_bytes;
  };
  if (k == 0) {
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return larger_epc(a, b) || (!larger_epc(b, a) && a < b);
    });
    return;
  }
  const std::uint64_t stream = seed ^ kOfflineOrderStream;
  std::seed_seq seeds{static_cast<std::uint32_t>(stream), static_cast<std::uint32_t>(stream >> 32),
                      static_cast<std::uint32_t>(k)};
  std::mt19937_64 shuffle(seeds);
  std::shuffle(order.begin(), order.end(), shuffle);
  if (k % 2 == 1) {
    std::stable_sort(order.begin(), order.end(), larger_epc);
  }
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

FillResult run_best_offline(const Trace& trace, std::uint64_t seed, int orders) {
  const std::vector<std::size_t> arrivals = draw_arrivals(trace, seed, 1.0);
  const FreeCapacity at_start = free_capacity_at_start(trace);
  std::vector<std::size_t> order;
  std::vector<std::size_t> node_of;
  std::vector<std::size_t> best_order;
  std::vector<std::size_t> best_node_of;
  std::int64_t best_placed = -1;
  for (int k = 0; k < std::max(orders, 1); ++k) {
    order = arrivals;
    arrange_offline_order(trace, seed, k, order);
    const std::int64_t placed = pack_best_fit(trace, order, at_start, node_of);
    if (placed > best_placed) {
      best_placed = placed;
      best_order.swap(order);
      best_node_of.swap(node_of);
    }
  }

  // The winner is replayed through SimCluster: it is counted as run_fill counts, and its
  // capacities are checked by other code than the packer's own arrays.
  SimCluster cluster(trace.nodes);
  FillResult result;
  result.cluster_epc_bytes = cluster.epc_capacity();
  result.used_at_start_epc_bytes = cluster.epc_used_at_start();
  const std::int64_t free_at_start = cluster.epc_free_at_start();
  result.first_fitting_rejection = -1.0;  // offline: pods do not arrive in order
  for (std::size_t a = 0; a < best_order.size(); ++a) {
    const PodDemand demand = demand_of(trace.pods[best_order[a]]);
    ++result.arrived_pods;
    result.arrived_epc_bytes += demand.sgx.epc_bytes;
    if (best_node_of[a] != kNoNode) {
      cluster.place(best_node_of[a], demand);
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
