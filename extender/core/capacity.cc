#include "extender/core/capacity.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "extender/core/checked_math.h"

namespace epc::core {

std::int64_t pods_that_fit(const PodRequest& shape, const NodeRow& node,
                           const NodeAccounting& accounting) {
  // min over the resources the shape uses of free / per-pod; nullopt until one is used.
  std::optional<std::int64_t> count;
  auto limit_by = [&count](std::int64_t free, std::int64_t per_pod) {
    if (per_pod <= 0) {
      return;  // the shape does not use this resource: it does not limit the count
    }
    const std::int64_t n = free / per_pod;
    count = count.has_value() ? std::min(*count, n) : n;
  };
  limit_by(free_epc_bytes(node, accounting), shape.epc_bytes);
  limit_by(free_enclave_slots(node), shape.enclave_slots);
  limit_by(free_provision_slots(node), shape.provision_slots);
  return count.value_or(0);
}

std::int64_t CapacityCounter::add(const NodeRow& row) {
  // Rows fit would turn away whatever their free numbers say take nothing. Rows that fail only for
  // lack of room (or a capacity below the shape) compute 0 below.
  const bool trusted = node_trusted(row, context_.now_ns, context_.stale_after_ns);
  const std::int64_t count = trusted ? pods_that_fit(shape_, row, context_.accounting) : 0;
  result_.total_pods = saturating_add(result_.total_pods, count);
  if (count > 0) {
    ++result_.nodes_with_room;
  } else if (trusted) {
    result_.stranded_epc_bytes =
        saturating_add(result_.stranded_epc_bytes, free_epc_bytes(row, context_.accounting));
  }
  return count;
}

ClusterCapacity cluster_capacity(const PodRequest& shape, std::span<const NodeRow> rows,
                                 const FitContext& context, std::span<std::int64_t> per_node_out) {
  const bool want_per_node = per_node_out.size() == rows.size();
  CapacityCounter counter(shape, context);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const std::int64_t count = counter.add(rows[i]);
    if (want_per_node) {
      per_node_out[i] = count;
    }
  }
  return counter.result();
}

}  // namespace epc::core
