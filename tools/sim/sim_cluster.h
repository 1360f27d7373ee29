#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"
#include "tools/sim/trace.h"

namespace epc::tools::sim {

// What a pod asks of a node in the simulation: kube-scheduler's view (CPU, memory, one pod) and the
// extender's view (core::PodRequest: EPC and enclave slots).
struct PodDemand {
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;
  core::PodRequest sgx;
};

PodDemand demand_of(const SimPod& pod);

// Per-node use as kube-scheduler's NodeInfo counts it.
struct NodeUse {
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t nonzero_cpu_milli = 0;  // NodeInfo.NonZeroRequested: what scoring reads
  std::int64_t nonzero_memory_bytes = 0;
  std::int64_t pods = 0;
};

// The simulated cluster. EPC and slots live in core::NodeRow, the very rows the extender's fit and
// score read (every node has reported, has SGX and is healthy); CPU, memory and pod counts live
// beside them for kube-scheduler's own filter and scores.
//
// Each node starts with its SimNode::*_used already taken (EPC and slots in its row, pods in its
// NodeUse), so every strategy's filters and scores see that load. It is never removed, and it is
// not part of epc_placed(), which counts only what the simulation placed.
class SimCluster {
 public:
  explicit SimCluster(std::span<const SimNode> nodes);

  std::size_t size() const { return nodes_.size(); }
  const SimNode& node(std::size_t i) const { return nodes_[i]; }
  const core::NodeRow& row(std::size_t i) const { return rows_[i]; }
  std::span<const core::NodeRow> rows() const { return rows_; }
  const NodeUse& use(std::size_t i) const { return use_[i]; }

  // NodeResourcesFit's filter (CPU, memory, pod count, enclave slots as an extended resource),
  // plus EPC when `epc_is_extended_resource` (kube-scheduler alone, EPC advertised to the node).
  bool kube_fits(std::size_t i, const PodDemand& pod, bool epc_is_extended_resource) const;
  // kube_fits with EPC, on the node as the run started: only its pre-existing use taken (the empty
  // node when it has none). A pod that fails it on every node could never be placed, whatever the
  // strategy.
  bool fits_at_start(std::size_t i, const PodDemand& pod) const;

  // The caller checked the fit. Each call checks the node it changed, so an over-commit at any
  // moment (not only at a sample) is remembered in ever_over_capacity().
  void place(std::size_t i, const PodDemand& pod);
  void remove(std::size_t i, const PodDemand& pod);
  bool ever_over_capacity() const { return ever_over_capacity_; }

  std::int64_t epc_capacity() const { return epc_capacity_; }
  // EPC held by the nodes' pre-existing pods (SimNode::epc_used_bytes, summed).
  std::int64_t epc_used_at_start() const { return epc_used_at_start_; }
  // What the simulation can fill: epc_capacity() − epc_used_at_start() (never below 0). The
  // protocols' fractions are of this.
  std::int64_t epc_free_at_start() const {
    return std::max<std::int64_t>(epc_capacity_ - epc_used_at_start_, 0);
  }
  // EPC of the pods the simulation placed and that are still there.
  std::int64_t epc_placed() const { return epc_placed_; }
  // EPC no pod holds now: capacity − pre-existing use − placed.
  std::int64_t epc_free() const { return epc_capacity_ - epc_used_at_start_ - epc_placed_; }
  // The largest EPC request some node could still take (it has a free slot and a pod slot).
  std::int64_t largest_placeable_epc() const;
  // True when no node is over capacity in any dimension (CPU, memory, pods, EPC, slots) now and
  // none ever was.
  bool within_capacity() const;

 private:
  bool node_within_capacity(std::size_t i) const;

  std::vector<SimNode> nodes_;
  std::vector<core::NodeRow> rows_;
  std::vector<NodeUse> use_;
  std::int64_t epc_capacity_ = 0;
  std::int64_t epc_used_at_start_ = 0;
  std::int64_t epc_placed_ = 0;
  bool ever_over_capacity_ = false;
};

}  // namespace epc::tools::sim
