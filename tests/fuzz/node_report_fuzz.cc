// Fuzz target: an epc.v1.NodeReport as a device plugin sends it (protobuf bytes off the gRPC
// stream) through the extender's validation and conversion (extender/reports/conversion.h). A
// report is refused with an explained error or converts to state values within every limit of
// proto/epc/v1/report_limits.h; no partial message, no count outside the contract.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "epc/v1/node_reports.pb.h"
#include "extender/reports/conversion.h"
#include "proto/epc/v1/report_limits.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

namespace limits = epc::v1;

void check_slots(const epc::state::SlotCount& slots) {
  EPC_FUZZ_CHECK(slots.total >= 0 && slots.total <= limits::kMaxSlots);
  EPC_FUZZ_CHECK(slots.used >= 0 && slots.used <= slots.total);
}

void check_live(const epc::state::LiveEpc& live) {
  EPC_FUZZ_CHECK(live.used_bytes >= 0 && live.used_bytes <= limits::kMaxEpcCapacityBytes);
  if (!live.known) {
    EPC_FUZZ_CHECK(live.used_bytes == 0);
  }
}

void check_health(const epc::state::HealthInfo& health) {
  EPC_FUZZ_CHECK(health.reason.size() <= limits::kMaxHealthReasonBytes);
}

void check_holders(const std::vector<epc::core::SlotHolder>& holders) {
  EPC_FUZZ_CHECK(holders.size() <= limits::kMaxHolders);
  std::set<std::string> seen;
  for (const auto& holder : holders) {
    // PodKey::namespace_name is "namespace/name", both parts valid Kubernetes names.
    const std::string& key = holder.pod.namespace_name;
    const std::size_t slash = key.find('/');
    EPC_FUZZ_CHECK(slash != std::string::npos);
    EPC_FUZZ_CHECK(epc::reports::is_dns1123_label(std::string_view(key).substr(0, slash)));
    EPC_FUZZ_CHECK(epc::reports::is_dns1123_subdomain(std::string_view(key).substr(slash + 1),
                                                      limits::kMaxPodNameLength));
    EPC_FUZZ_CHECK(holder.pod.uid.size() <= limits::kMaxPodUidLength);
    if (holder.epc_bytes) {
      EPC_FUZZ_CHECK(*holder.epc_bytes >= 0 && *holder.epc_bytes <= limits::kMaxEpcCapacityBytes);
    }
    EPC_FUZZ_CHECK(holder.enclave_slots >= 0 && holder.enclave_slots <= limits::kMaxSlots);
    EPC_FUZZ_CHECK(holder.provision_slots >= 0 && holder.provision_slots <= limits::kMaxSlots);
    // One entry per pod.
    EPC_FUZZ_CHECK(seen.insert(key).second);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  epc::v1::NodeReport report;
  if (size > static_cast<std::size_t>(INT32_MAX) ||
      !report.ParseFromArray(data, static_cast<int>(size))) {
    return 0;  // not a NodeReport: gRPC refuses it before the conversion sees it
  }
  const auto converted = epc::reports::from_proto(report);
  epc::fuzz::check_error_explained(converted);
  if (!converted.ok()) {
    return 0;
  }
  const epc::state::ReportMessage& message = *converted;
  EPC_FUZZ_CHECK(message.node_name == report.node_name());
  EPC_FUZZ_CHECK(epc::reports::is_dns1123_subdomain(message.node_name));
  EPC_FUZZ_CHECK(message.node_name.size() <= limits::kMaxNodeNameLength);
  EPC_FUZZ_CHECK(!message.instance_id.empty());
  EPC_FUZZ_CHECK(message.instance_id.size() <= limits::kMaxInstanceIdLength);
  EPC_FUZZ_CHECK(message.plugin_version.size() <= limits::kMaxPluginVersionLength);
  EPC_FUZZ_CHECK(message.sequence == report.sequence());

  if (const auto* state = std::get_if<epc::state::NodeState>(&message.body)) {
    EPC_FUZZ_CHECK(report.kind_case() == epc::v1::NodeReport::kSnapshot);
    EPC_FUZZ_CHECK(state->epc_capacity_bytes >= 0 &&
                   state->epc_capacity_bytes <= limits::kMaxEpcCapacityBytes);
    EPC_FUZZ_CHECK(state->epc_sections.size() <= limits::kMaxEpcSections);
    for (const auto& section : state->epc_sections) {
      EPC_FUZZ_CHECK(section.size_bytes >= 0 && section.size_bytes <= limits::kMaxEpcCapacityBytes);
    }
    check_slots(state->enclave_slots);
    check_slots(state->provision_slots);
    check_live(state->live_epc);
    check_health(state->health);
    check_holders(state->holders);
  } else if (const auto* change = std::get_if<epc::state::NodeChange>(&message.body)) {
    EPC_FUZZ_CHECK(report.kind_case() == epc::v1::NodeReport::kChange);
    if (change->enclave_slots) {
      check_slots(*change->enclave_slots);
    }
    if (change->provision_slots) {
      check_slots(*change->provision_slots);
    }
    if (change->live_epc) {
      check_live(*change->live_epc);
    }
    if (change->health) {
      check_health(*change->health);
    }
    check_holders(change->holders_upserted);
    EPC_FUZZ_CHECK(change->holders_removed.size() <= limits::kMaxHolders);
    for (const auto& removed : change->holders_removed) {
      EPC_FUZZ_CHECK(removed.find('/') != std::string::npos);
    }
  } else {
    EPC_FUZZ_CHECK(report.kind_case() == epc::v1::NodeReport::kHeartbeat);
  }
  return 0;
}
