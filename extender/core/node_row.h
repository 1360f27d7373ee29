#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

#include "extender/core/checked_math.h"

namespace epc::core {

inline constexpr int kMaxEpcSections = 8;

enum class NodeHealth : std::uint8_t {
  kHealthy,
  kUnhealthy,  // the plugin says the SGX devices are unusable (device node gone, driver error)
};

// A node's last report time (monotonic ns), which the state writer may move forward in a row that
// readers already share: a heartbeat changes nothing else, and republishing the row for it made
// ingest cost grow with the cluster (state/node_table.h). A relaxed atomic, so readers on other
// threads read it without a data race; on x86-64 its loads and stores are plain moves. Reads as
// and converts from std::int64_t, so a NodeRow stays an ordinary copyable value.
class ReportTime {
 public:
  constexpr ReportTime(std::int64_t ns = 0) noexcept : ns_(ns) {}  // NOLINT: implicit on purpose
  ReportTime(const ReportTime& other) noexcept : ns_(other.load()) {}
  ReportTime& operator=(const ReportTime& other) noexcept {
    store(other.load());
    return *this;
  }
  ReportTime& operator=(std::int64_t ns) noexcept {
    store(ns);
    return *this;
  }
  operator std::int64_t() const noexcept { return load(); }  // NOLINT: implicit on purpose

  std::int64_t load() const noexcept { return ns_.load(std::memory_order_relaxed); }
  // const: the writer moves the time in rows it has published (the one mutable field).
  void store(std::int64_t ns) const noexcept { ns_.store(ns, std::memory_order_relaxed); }

 private:
  mutable std::atomic<std::int64_t> ns_;
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

  ReportTime report_time_ns = 0;  // monotonic clock of the last report received (any kind)

  // CPU and memory as kube-scheduler's NodeResourcesFit counts them: the node's allocatable and
  // the requests of every pod bound to it, SGX or not (from the Kubernetes API watch). Scoring
  // reads them so as not to strand EPC on a node whose CPU or memory runs out first; fit does not
  // (kube-scheduler filters CPU and memory itself, on fresher data). Unknown without the API.
  bool cpu_memory_known = false;
  std::int64_t cpu_allocatable_milli = 0;
  std::int64_t cpu_requested_milli = 0;
  std::int64_t memory_allocatable_bytes = 0;
  std::int64_t memory_requested_bytes = 0;
};

// Tunables that turn a row into "free" numbers.
struct NodeAccounting {
  std::int64_t epc_headroom_bytes = 0;  // kept free on every node (kernel, non-pod enclaves)
};

// The helpers below run per node per request, so they are defined here to be inlined into the
// fit and score loops. Arithmetic saturates: absurd reported numbers must clamp, never wrap.

// EPC in use for accounting: max(requested, live_used) when live use is known, else requested.
// Ledger requests can lag reality (pods we never heard of, enclaves outside pods) and live use can
// lag admissions (an enclave not started yet): trust whichever is larger.
inline std::int64_t epc_used_bytes(const NodeRow& row) {
  return row.live_used_known && row.epc_live_used_bytes > row.epc_requested_bytes
             ? row.epc_live_used_bytes
             : row.epc_requested_bytes;
}

// EPC pods may use at all: capacity − headroom, never below zero.
inline std::int64_t usable_epc_bytes(const NodeRow& row, const NodeAccounting& accounting) {
  return std::max<std::int64_t>(
      saturating_sub(row.epc_capacity_bytes, accounting.epc_headroom_bytes), 0);
}

// free_epc = capacity − max(requested, live_used) − headroom, never below zero.
// (= usable_epc_bytes − epc_used_bytes, clamped at zero.)
inline std::int64_t free_epc_bytes(const NodeRow& row, const NodeAccounting& accounting) {
  return std::max<std::int64_t>(
      saturating_sub(usable_epc_bytes(row, accounting), epc_used_bytes(row)), 0);
}

inline std::int64_t free_enclave_slots(const NodeRow& row) {
  return std::max<std::int64_t>(saturating_sub(row.enclave_slots_total, row.enclave_slots_used), 0);
}

inline std::int64_t free_provision_slots(const NodeRow& row) {
  return std::max<std::int64_t>(saturating_sub(row.provision_slots_total, row.provision_slots_used),
                                0);
}

}  // namespace epc::core
