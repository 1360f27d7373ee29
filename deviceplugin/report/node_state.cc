#include "deviceplugin/report/node_state.h"

namespace epc::deviceplugin::report {

bool NodeState::operator==(const NodeState& other) const {
  if (epc_sections.size() != other.epc_sections.size()) {
    return false;
  }
  for (std::size_t i = 0; i < epc_sections.size(); ++i) {
    if (epc_sections[i].numa_node != other.epc_sections[i].numa_node ||
        epc_sections[i].size_bytes != other.epc_sections[i].size_bytes) {
      return false;
    }
  }
  return sgx_present == other.sgx_present && epc_capacity_bytes == other.epc_capacity_bytes &&
         enclave == other.enclave && provision == other.provision &&
         live_epc_known == other.live_epc_known &&
         live_epc_used_bytes == other.live_epc_used_bytes && holders == other.holders &&
         healthy == other.healthy && health_reason == other.health_reason;
}

NodeState initial_node_state(const sgx::SgxInfo& info, std::uint32_t enclave_slots,
                             std::uint32_t provision_slots) {
  NodeState out;
  out.sgx_present = info.usable();
  out.epc_capacity_bytes = info.epc_capacity_bytes;
  out.epc_sections = info.epc_sections;
  out.enclave.total = out.sgx_present ? enclave_slots : 0;
  out.provision.total = out.sgx_present && info.devices.provision ? provision_slots : 0;
  out.live_epc_known = info.live_epc.known;
  out.live_epc_used_bytes = info.live_epc.used_bytes;
  out.healthy = out.sgx_present;
  if (!out.healthy) {
    out.health_reason = info.unusable_reason();
  }
  return out;
}

}  // namespace epc::deviceplugin::report
