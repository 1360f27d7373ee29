#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "tools/sim/strategy.h"
#include "tools/sim/trace.h"

namespace epc::tools::sim {

// Called now and then with (work done, work total) for a progress bar.
using ProgressFn = std::function<void(std::int64_t done, std::int64_t total)>;

struct FillOptions {
  double stop_at_arrived = 1.3;  // stop when arrived EPC reaches this fraction of cluster EPC
  double curve_step = 0.01;      // one curve point per this much arrived EPC (fraction of cluster)
};

struct CurvePoint {
  double arrived = 0.0;  // arrived EPC / cluster EPC
  double placed = 0.0;   // placed EPC / cluster EPC
};

struct FillResult {
  std::int64_t arrived_pods = 0;
  std::int64_t placed_pods = 0;
  std::int64_t rejected_pods = 0;
  std::int64_t arrived_epc_bytes = 0;
  std::int64_t placed_epc_bytes = 0;
  std::int64_t cluster_epc_bytes = 0;
  // Unallocated EPC / cluster EPC at the moment arrived EPC first reaches 100% of the cluster's.
  double unallocated_at_full = 0.0;
  // Arrived EPC fraction (this pod included) at the first rejection of a pod that would fit some
  // empty node; stop_at_arrived (the end) when no such pod was rejected.
  double first_fitting_rejection = 0.0;
  std::vector<CurvePoint> curve;
  bool stayed_within_capacity = true;  // no node over capacity after any placement
};

// The FGD paper's protocol: pods drawn from trace.pods uniformly at random with replacement
// (seeded; the same seed gives every strategy the same arrival sequence), inserted with no
// departures until arrived EPC reaches stop_at_arrived of the cluster's EPC. A pod no node takes is
// counted as rejected and dropped.
FillResult run_fill(const Trace& trace, const Strategy& strategy, std::uint64_t seed,
                    const FillOptions& options, const ProgressFn& progress = {});

// The offline reference: the pods of the same seed's arrival sequence up to 100% arrived, sorted by
// EPC (largest first), each put where it leaves the least EPC free (among nodes where it fits in
// every dimension). Fills the same fields; the curve has the single 100% point and
// first_fitting_rejection is -1 (an offline packing has no arrival order).
FillResult run_best_fit_decreasing(const Trace& trace, std::uint64_t seed);

// The arrival sequence both functions use: pod indices for `seed` until `arrived_fraction` of the
// cluster's EPC has arrived (the last pod crosses it).
std::vector<std::size_t> draw_arrivals(const Trace& trace, std::uint64_t seed,
                                       double arrived_fraction);

}  // namespace epc::tools::sim
