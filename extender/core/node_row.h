#pragma once

#include <array>
#include <cstdint>

namespace epc::core {

inline constexpr int kMaxEpcSections = 8;

enum class NodeHealth : std::uint8_t {
  kHealthy,
  kUnhealthy,  // the plugin says the SGX devices are unusable (device node gone, driver error)
};

// One node's dense record in the node table: everything fit, score and capacity read, as plain
// integers so the hot loop touches one cache-friendly struct per node. Names live beside the table.
struct NodeRow {
  bool ever_reported = false;  // false for a row created only because the name was seen somewhere
  bool has_sgx = false;        // the plugin found SGX; false rows advertise nothing
  NodeHealth health = NodeHealth::kHealthy;
  bool live_used_known = false;  // the kernel offers live EPC use (misc cgroup) on this node

  std::int64_t epc_capacity_bytes = 0;
  std::int32_t epc_section_count = 0;
  std::array<std::int64_t, kMaxEpcSections> epc_section_bytes{};  // per NUMA node / EPC section

  std::int64_t epc_requested_bytes = 0;  // Σ EPC of the ledger's pods on this node
  std::int64_t epc_live_used_bytes = 0;  // valid when live_used_known

  std::int64_t enclave_slots_total = 0;
  std::int64_t enclave_slots_used = 0;  // max(plugin's count, ledger's count)
  std::int64_t provision_slots_total = 0;
  std::int64_t provision_slots_used = 0;

  std::int64_t report_time_ns = 0;  // monotonic clock of the last report received (any kind)
};

// Tunables that turn a row into "free" numbers.
struct NodeAccounting {
  std::int64_t epc_headroom_bytes = 0;  // kept free on every node (kernel, non-pod enclaves)
};

// free_epc = capacity − max(requested, live_used) − headroom, never below zero.
std::int64_t free_epc_bytes(const NodeRow& row, const NodeAccounting& accounting);
std::int64_t free_enclave_slots(const NodeRow& row);
std::int64_t free_provision_slots(const NodeRow& row);

}  // namespace epc::core
