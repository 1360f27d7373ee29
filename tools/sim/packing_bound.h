#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/result.h"
#include "tools/sim/trace.h"

namespace epc::tools::sim {

// A limit for the fill protocol: no placement of a seed's arrivals, online or offline, by any
// strategy, leaves less EPC unallocated at 100% arrived than this bound.
//
// The LP. Arrived pods are grouped into shapes s = (cpu, memory, EPC, enclave slots) with counts
// n_s, nodes into types t with identical capacities and pre-existing use (SimNode's eight numbers)
// with counts N_t. A variable x_{s,t} ≥ 0 (pods of shape s on nodes of type t) exists only where
// one such pod fits an empty node of type t in every dimension, as SimCluster::fits_at_start
// checks. Constraints: Σ_t x_{s,t} ≤ n_s; per type and dimension d (CPU, memory, EPC, slots,
// pods) Σ_s x_{s,t}·demand_{s,d} ≤ N_t·free_{t,d}; and, with cap_per_node_count, x_{s,t} ≤
// N_t·k_{s,t} where k_{s,t} = min_d ⌊free_{t,d} / demand_{s,d}⌋ is how many pods of shape s one
// node of type t could hold alone. Objective: maximise Σ x_{s,t}·EPC_s.
//
// Why it is a bound: any placement that respects every node's five capacities, counted pod by pod
// and grouped by (shape, node type), satisfies every constraint (the last one too: no node holds
// more pods of a shape than k_{s,t}), so its placed EPC is at most the LP optimum. The converse
// does not hold: the LP pools a type's capacity and splits pods, so the bound may be unreachable.
// Pods without EPC add nothing to the objective and are left out (x = 0 for them is feasible).
// Pre-existing CPU and memory use is not modelled (trace.h), as in the simulation itself.
//
// Thread-safety: safe to call from several threads at once; each call owns its GLPK problem.
struct PackingBoundOptions {
  // The x_{s,t} ≤ N_t·k_{s,t} cap. It is valid for integer placements and tightens the bound a
  // lot where pods are large against nodes (two 6 GiB pods never share a 10 GiB node); off, the LP
  // is the pure relaxation of the capacity rows, kept for tests that show what the cap adds.
  bool cap_per_node_count = true;
};

struct PackingBound {
  std::int64_t arrived_pods = 0;
  std::int64_t arrived_epc_bytes = 0;
  std::int64_t used_at_start_epc_bytes = 0;  // held by pre-existing pods, as in FillResult
  std::int64_t free_at_start_epc_bytes = 0;  // as FillResult::free_at_start_epc_bytes()
  double placeable_epc_bytes = 0.0;          // the LP optimum
  // The lower bound on unallocated EPC / free EPC at the start (FillResult::unallocated_at_full),
  // (free − optimum) / free less a 1e-6 margin for the solver's tolerances, at least 0; -1 when
  // no EPC is free.
  double unallocated_at_full = -1.0;
  std::int64_t pod_shapes = 0;  // distinct shapes among the arrivals (EPC-less ones included)
  std::int64_t node_types = 0;  // distinct node types
  std::int64_t rows = 0;        // the LP's size, as handed to GLPK (empty rows left out)
  std::int64_t columns = 0;
  double solve_seconds = 0.0;  // wall time of glp_simplex, presolve included
};

// The bound for the pods trace.pods[i] for i in `arrivals` (repeats count as several pods). An
// error only when GLPK fails or does not report an optimum (the LP always has one: x = 0 is
// feasible and every x is bounded).
common::Result<PackingBound> bound_packing(const Trace& trace,
                                           std::span<const std::size_t> arrivals,
                                           const PackingBoundOptions& options = {});

// bound_packing over the seed's fill arrivals up to 100% arrived (draw_arrivals(trace, seed,
// 1.0)): the multiset every strategy's unallocated_at_full is measured on.
common::Result<PackingBound> bound_packing_at_full(const Trace& trace, std::uint64_t seed,
                                                   const PackingBoundOptions& options = {});

}  // namespace epc::tools::sim
