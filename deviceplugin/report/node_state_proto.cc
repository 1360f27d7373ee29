#include "deviceplugin/report/node_state_proto.h"

#include <algorithm>

namespace epc::deviceplugin::report {

void to_proto(const NodeState& snapshot, epc::v1::NodeState& out) {
  out.Clear();
  out.set_sgx_present(snapshot.sgx_present);
  out.set_epc_capacity_bytes(snapshot.epc_capacity_bytes);
  const bool sections_reportable =
      snapshot.epc_sections.size() <= v1::kMaxEpcSections &&
      std::all_of(snapshot.epc_sections.begin(), snapshot.epc_sections.end(),
                  [](const sgx::EpcSection& s) { return s.numa_node >= 0; });
  if (sections_reportable) {
    for (const sgx::EpcSection& section : snapshot.epc_sections) {
      auto* s = out.add_epc_sections();
      s->set_numa_node(section.numa_node);
      s->set_size_bytes(section.size_bytes);
    }
  }
  out.mutable_enclave_slots()->set_total(snapshot.enclave.total);
  out.mutable_enclave_slots()->set_used(std::min(snapshot.enclave.used, snapshot.enclave.total));
  out.mutable_provision_slots()->set_total(snapshot.provision.total);
  out.mutable_provision_slots()->set_used(
      std::min(snapshot.provision.used, snapshot.provision.total));
  // Live use above the known capacity is not trustworthy (the extender refuses it): say unknown.
  const bool live_known =
      snapshot.live_epc_known && snapshot.live_epc_used_bytes <= snapshot.epc_capacity_bytes;
  out.mutable_live_epc()->set_known(live_known);
  out.mutable_live_epc()->set_used_bytes(live_known ? snapshot.live_epc_used_bytes : 0);
  for (const Holder& holder : snapshot.holders) {
    auto* h = out.add_holders();
    h->set_pod_namespace(holder.pod_namespace);
    h->set_pod_name(holder.pod_name);
    h->set_epc_known(false);
    h->set_enclave_slots(holder.enclave_slots);
    h->set_provision_slots(holder.provision_slots);
  }
  out.mutable_health()->set_healthy(snapshot.healthy);
  out.mutable_health()->set_reason(snapshot.health_reason.substr(0, v1::kMaxHealthReasonBytes));
}

}  // namespace epc::deviceplugin::report
