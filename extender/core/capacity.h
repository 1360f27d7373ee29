#pragma once

#include <cstdint>
#include <span>

#include "extender/core/fit.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"

namespace epc::core {

// How many more pods of one shape fit a node right now: min over the resources the shape uses of
// free / per-pod amount. A shape that uses no resource is an error for the caller; here it yields
// 0.
std::int64_t pods_that_fit(const PodRequest& shape, const NodeRow& node,
                           const NodeAccounting& accounting);

// What still fits of one shape, in the whole table: the answer behind `/capacity`, the
// placeable-pods metric and `epcctl capacity`.
struct ClusterCapacity {
  std::int64_t total_pods = 0;       // Σ pods_that_fit over the trusted nodes
  std::int64_t nodes_with_room = 0;  // trusted nodes that take at least one more
  // Free EPC on trusted nodes that cannot take one more pod of this shape (too little EPC, or no
  // slot left): EPC that this shape strands.
  std::int64_t stranded_epc_bytes = 0;
};

// The same sum one row at a time, for callers whose rows are not one span (the snapshot's chunked
// node table). No allocation.
class CapacityCounter {
 public:
  CapacityCounter(const PodRequest& shape, const FitContext& context)
      : shape_(shape), context_(context) {}

  // Adds one node; returns how many more pods of the shape it takes (0 when not trusted).
  std::int64_t add(const NodeRow& row);
  const ClusterCapacity& result() const { return result_; }

 private:
  PodRequest shape_;
  FitContext context_;
  ClusterCapacity result_;
};

// Sum over nodes; rows that core::node_trusted turns away (no report, no SGX, unhealthy, stale)
// count zero and strand nothing (their free numbers are not believed). `per_node_out`, if it has
// rows.size() entries, receives each node's count; any other size is left alone. No allocation.
ClusterCapacity cluster_capacity(const PodRequest& shape, std::span<const NodeRow> rows,
                                 const FitContext& context, std::span<std::int64_t> per_node_out);

}  // namespace epc::core
