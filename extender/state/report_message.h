#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "extender/core/ledger.h"

namespace epc::state {

// A NodeReport message as the state writer takes it: plain values mirroring epc.v1 (names as in
// proto/epc/v1/node_reports.proto), converted and validated by extender/reports at the boundary so
// that no protobuf type reaches the writer.

struct EpcSectionInfo {
  std::int32_t numa_node = 0;
  std::int64_t size_bytes = 0;
};

struct SlotCount {
  std::int64_t total = 0;
  std::int64_t used = 0;
};

struct LiveEpc {
  bool known = false;
  std::int64_t used_bytes = 0;
};

struct HealthInfo {
  bool healthy = true;
  std::string reason;
};

// A node's full state (NodeReport.snapshot).
struct NodeState {
  bool sgx_present = false;
  std::int64_t epc_capacity_bytes = 0;
  std::vector<EpcSectionInfo> epc_sections;
  SlotCount enclave_slots;
  SlotCount provision_slots;
  LiveEpc live_epc;
  std::vector<core::SlotHolder> holders;
  HealthInfo health;
};

// What changed (NodeReport.change); nullopt = unchanged.
struct NodeChange {
  std::optional<SlotCount> enclave_slots;
  std::optional<SlotCount> provision_slots;
  std::optional<LiveEpc> live_epc;
  std::optional<HealthInfo> health;
  std::vector<core::SlotHolder> holders_upserted;
  std::vector<std::string> holders_removed;  // "namespace/name"
};

struct Heartbeat {};

struct ReportMessage {
  std::string node_name;
  std::string instance_id;
  std::uint64_t sequence = 0;
  std::string plugin_version;
  std::variant<NodeState, NodeChange, Heartbeat> body;
};

// What kind of message a plugin sent, and what became of it: the reports service tells its observer
// (the metrics count them by these).
enum class ReportKind : std::uint8_t { kSnapshot, kChange, kHeartbeat, kInvalid };
enum class ReportResult : std::uint8_t { kApplied, kRefused };

}  // namespace epc::state
