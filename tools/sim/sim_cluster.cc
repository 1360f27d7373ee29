#include "tools/sim/sim_cluster.h"

#include <algorithm>

#include "tools/sim/kube_scores.h"

namespace epc::tools::sim {

PodDemand demand_of(const SimPod& pod) {
  return PodDemand{.cpu_milli = pod.cpu_milli,
                   .memory_bytes = pod.memory_bytes,
                   .sgx = core::PodRequest{.epc_bytes = pod.epc_bytes,
                                           .enclave_slots = pod.enclave_slots,
                                           .provision_slots = 0,
                                           .cpu_milli = pod.cpu_milli,
                                           .memory_bytes = pod.memory_bytes}};
}

SimCluster::SimCluster(std::span<const SimNode> nodes)
    : nodes_(nodes.begin(), nodes.end()), rows_(nodes.size()), use_(nodes.size()) {
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    core::NodeRow& row = rows_[i];
    row.ever_reported = true;
    row.has_sgx = nodes_[i].epc_bytes > 0;
    row.epc_capacity_bytes = nodes_[i].epc_bytes;
    row.epc_section_count = 1;
    row.epc_section_bytes[0] = nodes_[i].epc_bytes;
    row.enclave_slots_total = nodes_[i].enclave_slots;
    // The pre-existing pods, as the extender's ledger and kube-scheduler's NodeInfo would hold
    // them. Their CPU and memory are unknown, so the non-zero defaults are not added for them.
    row.epc_requested_bytes = nodes_[i].epc_used_bytes;
    row.enclave_slots_used = nodes_[i].enclave_slots_used;
    // What the extender learns from the API: allocatable and the requests of the pods placed.
    row.cpu_memory_known = true;
    row.cpu_allocatable_milli = nodes_[i].cpu_milli;
    row.memory_allocatable_bytes = nodes_[i].memory_bytes;
    use_[i].pods = nodes_[i].pods_used;
    epc_capacity_ += nodes_[i].epc_bytes;
    epc_used_at_start_ += nodes_[i].epc_used_bytes;
  }
}

bool SimCluster::kube_fits(std::size_t i, const PodDemand& pod,
                           bool epc_is_extended_resource) const {
  const SimNode& node = nodes_[i];
  const NodeUse& use = use_[i];
  const core::NodeRow& row = rows_[i];
  return use.pods + 1 <= node.max_pods && use.cpu_milli + pod.cpu_milli <= node.cpu_milli &&
         use.memory_bytes + pod.memory_bytes <= node.memory_bytes &&
         row.enclave_slots_used + pod.sgx.enclave_slots <= row.enclave_slots_total &&
         (!epc_is_extended_resource ||
          row.epc_requested_bytes + pod.sgx.epc_bytes <= row.epc_capacity_bytes);
}

bool SimCluster::fits_at_start(std::size_t i, const PodDemand& pod) const {
  const SimNode& node = nodes_[i];
  return node.pods_used + 1 <= node.max_pods && pod.cpu_milli <= node.cpu_milli &&
         pod.memory_bytes <= node.memory_bytes &&
         node.enclave_slots_used + pod.sgx.enclave_slots <= node.enclave_slots &&
         node.epc_used_bytes + pod.sgx.epc_bytes <= node.epc_bytes;
}

void SimCluster::place(std::size_t i, const PodDemand& pod) {
  NodeUse& use = use_[i];
  use.cpu_milli += pod.cpu_milli;
  use.memory_bytes += pod.memory_bytes;
  use.nonzero_cpu_milli += pod.cpu_milli > 0 ? pod.cpu_milli : kDefaultMilliCpuRequest;
  use.nonzero_memory_bytes += pod.memory_bytes > 0 ? pod.memory_bytes : kDefaultMemoryRequestBytes;
  use.pods += 1;
  rows_[i].epc_requested_bytes += pod.sgx.epc_bytes;
  rows_[i].enclave_slots_used += pod.sgx.enclave_slots;
  rows_[i].cpu_requested_milli += pod.cpu_milli;
  rows_[i].memory_requested_bytes += pod.memory_bytes;
  epc_placed_ += pod.sgx.epc_bytes;
  ever_over_capacity_ = ever_over_capacity_ || !node_within_capacity(i);
}

void SimCluster::remove(std::size_t i, const PodDemand& pod) {
  NodeUse& use = use_[i];
  use.cpu_milli -= pod.cpu_milli;
  use.memory_bytes -= pod.memory_bytes;
  use.nonzero_cpu_milli -= pod.cpu_milli > 0 ? pod.cpu_milli : kDefaultMilliCpuRequest;
  use.nonzero_memory_bytes -= pod.memory_bytes > 0 ? pod.memory_bytes : kDefaultMemoryRequestBytes;
  use.pods -= 1;
  rows_[i].epc_requested_bytes -= pod.sgx.epc_bytes;
  rows_[i].enclave_slots_used -= pod.sgx.enclave_slots;
  rows_[i].cpu_requested_milli -= pod.cpu_milli;
  rows_[i].memory_requested_bytes -= pod.memory_bytes;
  epc_placed_ -= pod.sgx.epc_bytes;
  ever_over_capacity_ = ever_over_capacity_ || !node_within_capacity(i);
}

std::int64_t SimCluster::largest_placeable_epc() const {
  std::int64_t largest = 0;
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    const core::NodeRow& row = rows_[i];
    if (row.enclave_slots_used < row.enclave_slots_total && use_[i].pods < nodes_[i].max_pods) {
      largest = std::max(largest, row.epc_capacity_bytes - row.epc_requested_bytes);
    }
  }
  return largest;
}

bool SimCluster::node_within_capacity(std::size_t i) const {
  const SimNode& node = nodes_[i];
  const NodeUse& use = use_[i];
  const core::NodeRow& row = rows_[i];
  return use.cpu_milli <= node.cpu_milli && use.memory_bytes <= node.memory_bytes &&
         use.pods <= node.max_pods && row.epc_requested_bytes <= row.epc_capacity_bytes &&
         row.enclave_slots_used <= row.enclave_slots_total && use.cpu_milli >= 0 &&
         use.memory_bytes >= 0 && use.pods >= 0 && row.epc_requested_bytes >= 0 &&
         row.enclave_slots_used >= 0;
}

bool SimCluster::within_capacity() const {
  if (ever_over_capacity_) {
    return false;
  }
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    if (!node_within_capacity(i)) {
      return false;
    }
  }
  return true;
}

}  // namespace epc::tools::sim
