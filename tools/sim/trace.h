#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace epc::tools::sim {

// One node of the simulated cluster, in base units (bytes, millicores, counts).
struct SimNode {
  std::string name;
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t epc_bytes = 0;
  std::int64_t enclave_slots = 0;
  std::int64_t max_pods = 110;  // kubelet's default maxPods, checked by NodeResourcesFit
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
