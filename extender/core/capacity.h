#pragma once

#include <cstdint>
#include <span>

#include "extender/core/fit.h"
#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"

namespace epc::core {

// How many more pods of one shape fit a node right now: min over the resources the shape uses of
// free / per-pod amount. A shape that uses no resource is an error for the caller; here it yields 0.
std::int64_t pods_that_fit(const PodRequest& shape, const NodeRow& node,
                           const NodeAccounting& accounting);

struct ClusterCapacity {
  std::int64_t total_pods = 0;
  std::int64_t nodes_with_room = 0;
};

// Sum over nodes; rows that cannot take pods (no report, no SGX, unhealthy, stale) count zero.
// `per_node_out`, if non-empty, must have rows.size() entries and receives each node's count.
ClusterCapacity cluster_capacity(const PodRequest& shape, std::span<const NodeRow> rows,
                                 const FitContext& context,
                                 std::span<std::int64_t> per_node_out);

}  // namespace epc::core
