#include "deviceplugin/report/node_change.h"

#include <map>
#include <string>

#include "deviceplugin/report/node_state_proto.h"

namespace epc::deviceplugin::report {

namespace {

bool same(const epc::v1::SlotUsage& a, const epc::v1::SlotUsage& b) {
  return a.total() == b.total() && a.used() == b.used();
}

bool same(const epc::v1::LiveEpcUse& a, const epc::v1::LiveEpcUse& b) {
  return a.known() == b.known() && a.used_bytes() == b.used_bytes();
}

bool same(const epc::v1::Health& a, const epc::v1::Health& b) {
  return a.healthy() == b.healthy() && a.reason() == b.reason();
}

bool same(const epc::v1::SlotHolder& a, const epc::v1::SlotHolder& b) {
  return a.pod_uid() == b.pod_uid() && a.epc_known() == b.epc_known() &&
         a.epc_bytes() == b.epc_bytes() && a.enclave_slots() == b.enclave_slots() &&
         a.provision_slots() == b.provision_slots();
}

bool same_static_part(const epc::v1::NodeState& a, const epc::v1::NodeState& b) {
  if (a.sgx_present() != b.sgx_present() || a.epc_capacity_bytes() != b.epc_capacity_bytes() ||
      a.epc_sections_size() != b.epc_sections_size()) {
    return false;
  }
  for (int i = 0; i < a.epc_sections_size(); ++i) {
    if (a.epc_sections(i).numa_node() != b.epc_sections(i).numa_node() ||
        a.epc_sections(i).size_bytes() != b.epc_sections(i).size_bytes()) {
      return false;
    }
  }
  return true;
}

std::string key_of(const epc::v1::SlotHolder& holder) {
  return holder.pod_namespace() + "/" + holder.pod_name();
}

}  // namespace

ChangeDiff diff_node_states(const NodeState& before, const NodeState& after,
                            epc::v1::NodeChange& out) {
  out.Clear();
  epc::v1::NodeState old_state;
  epc::v1::NodeState new_state;
  to_proto(before, old_state);
  to_proto(after, new_state);
  ChangeDiff diff;
  if (!same_static_part(old_state, new_state)) {
    diff.expressible = false;
    diff.empty = false;
    return diff;
  }
  if (!same(old_state.enclave_slots(), new_state.enclave_slots())) {
    *out.mutable_enclave_slots() = new_state.enclave_slots();
  }
  if (!same(old_state.provision_slots(), new_state.provision_slots())) {
    *out.mutable_provision_slots() = new_state.provision_slots();
  }
  if (!same(old_state.live_epc(), new_state.live_epc())) {
    *out.mutable_live_epc() = new_state.live_epc();
  }
  if (!same(old_state.health(), new_state.health())) {
    *out.mutable_health() = new_state.health();
  }
  std::map<std::string, const epc::v1::SlotHolder*> old_holders;
  for (const auto& holder : old_state.holders()) {
    old_holders.emplace(key_of(holder), &holder);
  }
  for (const auto& holder : new_state.holders()) {
    const auto it = old_holders.find(key_of(holder));
    if (it == old_holders.end() || !same(*it->second, holder)) {
      *out.add_holders_upserted() = holder;
    }
    if (it != old_holders.end()) {
      old_holders.erase(it);
    }
  }
  for (const auto& [key, holder] : old_holders) {
    out.add_holders_removed(key);
  }
  diff.empty = !out.has_enclave_slots() && !out.has_provision_slots() && !out.has_live_epc() &&
               !out.has_health() && out.holders_upserted_size() == 0 &&
               out.holders_removed_size() == 0;
  return diff;
}

}  // namespace epc::deviceplugin::report
