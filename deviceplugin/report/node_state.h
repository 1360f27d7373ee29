#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "deviceplugin/sgx/sgx_info.h"

namespace epc::deviceplugin::report {

struct SlotUse {
  std::uint32_t total = 0;
  std::uint32_t used = 0;
  bool operator==(const SlotUse&) const = default;
};

// A pod holding slots on this node, as PodResources lists it (no UID, no EPC: the extender learns
// those from the pod itself).
struct Holder {
  std::string pod_namespace;
  std::string pod_name;
  std::uint32_t enclave_slots = 0;
  std::uint32_t provision_slots = 0;
  bool operator==(const Holder&) const = default;
};

// Everything this plugin tells the extender about its node, as plain values.
struct NodeState {
  bool sgx_present = false;  // SGX usable for pods (discovery's usable())
  std::uint64_t epc_capacity_bytes = 0;
  std::vector<sgx::EpcSection> epc_sections;
  SlotUse enclave;
  SlotUse provision;
  bool live_epc_known = false;
  std::uint64_t live_epc_used_bytes = 0;
  std::vector<Holder> holders;  // sorted by namespace/name
  bool healthy = true;
  std::string health_reason;  // empty when healthy

  bool operator==(const NodeState&) const;
};

// The snapshot of a node right after discovery: capacity, sections, slot totals (0 for resources
// not served), live EPC use, no holders yet, healthy when SGX is usable.
NodeState initial_node_state(const sgx::SgxInfo& info, std::uint32_t enclave_slots,
                             std::uint32_t provision_slots);

}  // namespace epc::deviceplugin::report
