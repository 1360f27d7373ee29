#pragma once

#include <cstdint>
#include <vector>

#include "tools/sim/fill_protocol.h"
#include "tools/sim/strategy.h"
#include "tools/sim/trace.h"

namespace epc::tools::sim {

struct ChurnOptions {
  std::int64_t arrivals = 50'000;   // pods drawn in the whole run
  double offered_load = 1.0;        // offered EPC kept at this fraction of the free EPC
  double warmup = 0.2;              // the first fraction of arrivals is not counted
  std::int64_t sample_every = 100;  // arrivals between two samples of the time series
};

struct ChurnSample {
  std::int64_t arrivals = 0;
  std::int64_t rejected_pods = 0;          // cumulative, warm-up included
  double placed = 0.0;                     // placed EPC / free EPC
  std::int64_t largest_placeable_epc = 0;  // largest EPC request some node still takes
};

struct ChurnResult {
  std::int64_t counted_arrivals = 0;  // after warm-up
  std::int64_t rejected_pods = 0;     // after warm-up
  std::int64_t counted_epc_bytes = 0;
  std::int64_t rejected_epc_bytes = 0;
  std::int64_t cluster_epc_bytes = 0;
  double mean_placed = 0.0;  // mean over samples after warm-up, fraction of the free EPC
  std::int64_t median_largest_placeable_epc = 0;  // over samples after warm-up
  std::vector<ChurnSample> samples;
  bool stayed_within_capacity = true;  // no node over capacity after any placement or departure
};

// "Free EPC" is the cluster's EPC less what its nodes' pre-existing pods hold
// (SimNode::epc_used_bytes), which never leave; without such pods it is the cluster's EPC.
//
// Pods arrive (drawn like the fill protocol, with replacement, from pods that have a lifetime) and
// depart after their own trace lifetime (deletion − creation). Arrivals are closed-loop on the
// offered load: whenever the EPC of the pods that are alive (placed, or rejected but still within
// their lifetime: demand that a cluster would have had to serve) is below offered_load of the
// free EPC, the next pod arrives; otherwise the clock moves to the next departure. So every
// strategy faces the same offered load, whatever it rejected.
// An error when no pod of the list has a lifetime.
common::Result<ChurnResult> run_churn(const Trace& trace, const Strategy& strategy,
                                      std::uint64_t seed, const ChurnOptions& options,
                                      const ProgressFn& progress = {});

}  // namespace epc::tools::sim
