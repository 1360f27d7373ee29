#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace epc::tools::sim {

// One node of the simulated cluster, in base units (bytes, millicores, counts).
//
// The *_used fields are what pods that stay on the node already hold when a run starts (a
// snapshot of a running cluster, docs/sim-input.md); the simulation never removes them. Only what
// the extender's fit reads (EPC, enclave slots) and the pod count are known: those pods' CPU and
// memory requests are not modelled.
struct SimNode {
  std::string name;
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t epc_bytes = 0;
  std::int64_t enclave_slots = 0;
  std::int64_t max_pods = 110;  // kubelet's default maxPods, checked by NodeResourcesFit
  std::int64_t epc_used_bytes = 0;
  std::int64_t enclave_slots_used = 0;
  std::int64_t pods_used = 0;  // counted against max_pods
};

// One pod of the workload. Protocols draw pods from the list (with replacement), so the list is the
// workload's mix; `lifetime_s` is used by the churn protocol only (< 0 when the trace has none).
struct SimPod {
  std::string name;
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t epc_bytes = 0;
  std::int64_t enclave_slots = 0;
  std::int64_t lifetime_s = -1;
};

struct Trace {
  std::vector<SimNode> nodes;
  std::vector<SimPod> pods;
};

}  // namespace epc::tools::sim
