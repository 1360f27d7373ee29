#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tools/sim/strategy.h"
#include "tools/sim/trace.h"

namespace epc::tools::sim {

// Called now and then with (work done, work total) for a progress bar.
using ProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

// Every fraction below (arrived, placed, unallocated) is of the EPC free when the run starts:
// the cluster's EPC less what its nodes' pre-existing pods hold (SimNode::epc_used_bytes). Those
// pods never leave, so that is all a run can fill; without pre-existing use it is the cluster's
// EPC.

// The what-if variant's bound on FillOptions::arrivals (epc-sim --arrivals).
inline constexpr std::int64_t kMaxWhatIfArrivals = 10'000'000;

struct FillOptions {
  double stop_at_arrived = 1.3;  // stop when arrived EPC reaches this fraction of the free EPC
  double curve_step = 0.01;      // one curve point per this much arrived EPC (fraction)
  // > 0: the what-if variant. Exactly this many pods arrive, however much EPC they ask for; the
  // curve then has its points up to stop_at_arrived and one at the end.
  std::int64_t arrivals = 0;
};

struct CurvePoint {
  double arrived = 0.0;  // arrived EPC / free EPC at the start
  double placed = 0.0;   // placed EPC / free EPC at the start
};

struct FillResult {
  std::int64_t arrived_pods = 0;
  std::int64_t placed_pods = 0;
  std::int64_t rejected_pods = 0;
  std::int64_t arrived_epc_bytes = 0;
  std::int64_t placed_epc_bytes = 0;
  std::int64_t rejected_epc_bytes = 0;
  std::int64_t cluster_epc_bytes = 0;        // the EPC capacity of all nodes
  std::int64_t used_at_start_epc_bytes = 0;  // held by the pre-existing pods, all run long
  // Unallocated EPC / free EPC at the start, at the moment arrived EPC first reaches 100% of the
  // free EPC; -1 when the arrivals never reach it (a what-if run with few pods).
  double unallocated_at_full = -1.0;
  // Arrived EPC fraction (this pod included) at the first rejection of a pod that would fit some
  // node as the run started (SimCluster::fits_at_start): a rejection a better packing might have
  // avoided. When no such pod was rejected: stop_at_arrived, or in a what-if run the arrived
  // fraction at the end.
  double first_fitting_rejection = 0.0;
  std::vector<CurvePoint> curve;
  // No node over capacity (pre-existing use included) after any placement.
  bool stayed_within_capacity = true;

  std::int64_t free_at_start_epc_bytes() const {
    return cluster_epc_bytes > used_at_start_epc_bytes ? cluster_epc_bytes - used_at_start_epc_bytes
                                                       : 0;
  }
  // EPC no pod holds when the run ends (summed over nodes, however it is fragmented).
  std::int64_t free_at_end_epc_bytes() const {
    return cluster_epc_bytes - used_at_start_epc_bytes - placed_epc_bytes;
  }
};

// The FGD paper's protocol: pods drawn from trace.pods uniformly at random with replacement
// (seeded; the same seed gives every strategy the same arrival sequence), inserted with no
// departures until arrived EPC reaches stop_at_arrived of the free EPC, or in the what-if variant
// until options.arrivals pods have arrived. A pod no node takes is counted as rejected and dropped.
FillResult run_fill(const Trace& trace, const Strategy& strategy, std::uint64_t seed,
                    const FillOptions& options, const ProgressFn& progress = {});

// How many packing orders run_best_offline tries by default.
inline constexpr int kDefaultOfflineOrders = 16;

// The achieved offline reference: the pods of the same seed's arrival sequence up to 100% arrived,
// packed in `orders` orders, each pod put where it leaves the least EPC free (among nodes where it
// fits in every dimension; ties to the lowest node index); the order that places the most EPC is
// kept (the first such). Order 0 is EPC descending, ties by pod index; then, from generators
// seeded by (seed, order), odd orders are EPC descending with ties shuffled and even ones are
// fully random. Order k does not depend on `orders`, so more orders never do worse. Best-fit
// decreasing alone depends on the tie order of equal-EPC pods and can lose to online policies
// where CPU binds; several orders make a sturdier reference, but still not a limit
// (packing_bound.h is one). Fills the same fields as run_fill; the curve has the single 100%
// point and first_fitting_rejection is -1 (an offline packing has no arrival order). `orders`
// below 1 counts as 1.
FillResult run_best_offline(const Trace& trace, std::uint64_t seed,
                            int orders = kDefaultOfflineOrders);

// The arrival sequence run_fill, run_best_offline and the packing bound use: pod indices for `seed`
// until `arrived_fraction` of the free EPC has arrived (the last pod crosses it). Empty when
// nothing is free.
std::vector<std::size_t> draw_arrivals(const Trace& trace, std::uint64_t seed,
                                       double arrived_fraction);

// The what-if sequence: exactly `count` pod indices for `seed`, from the same draws, so
// draw_arrivals' sequence for a seed is a prefix of it or the other way round. Empty when the trace
// has no pods.
std::vector<std::size_t> draw_arrival_count(const Trace& trace, std::uint64_t seed,
                                            std::int64_t count);

}  // namespace epc::tools::sim
