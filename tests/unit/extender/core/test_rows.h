#pragma once

#include <cstdint>
#include <string>

#include <gtest/gtest.h>

#include "extender/core/node_row.h"
#include "extender/core/pod_request.h"

// Fixtures shared by the core tests: readable units and a fluent NodeRow builder, so table rows
// state only what differs from a healthy, reporting SGX node.
namespace epc::core::testing_support {

inline constexpr std::int64_t kMi = std::int64_t{1} << 20;
inline constexpr std::int64_t kGi = std::int64_t{1} << 30;
inline constexpr std::int64_t kSecondNs = 1'000'000'000;

class NodeBuilder {
 public:
  NodeBuilder() {
    row_.ever_reported = true;
    row_.has_sgx = true;
    row_.health = NodeHealth::kHealthy;
  }

  NodeBuilder& epc(std::int64_t capacity_bytes, std::int64_t requested_bytes = 0) {
    row_.epc_capacity_bytes = capacity_bytes;
    row_.epc_section_count = 1;
    row_.epc_section_bytes[0] = capacity_bytes;
    row_.epc_requested_bytes = requested_bytes;
    return *this;
  }
  NodeBuilder& live_used(std::int64_t bytes) {
    row_.live_used_known = true;
    row_.epc_live_used_bytes = bytes;
    return *this;
  }
  NodeBuilder& enclave_slots(std::int64_t total, std::int64_t used = 0) {
    row_.enclave_slots_total = total;
    row_.enclave_slots_used = used;
    return *this;
  }
  NodeBuilder& provision_slots(std::int64_t total, std::int64_t used = 0) {
    row_.provision_slots_total = total;
    row_.provision_slots_used = used;
    return *this;
  }
  NodeBuilder& reported_at(std::int64_t time_ns) {
    row_.report_time_ns = time_ns;
    return *this;
  }
  // CPU and memory as the API watch gives them (allocatable, requested by the node's pods).
  NodeBuilder& cpu_memory(std::int64_t cpu_allocatable_milli, std::int64_t cpu_requested_milli,
                          std::int64_t memory_allocatable_bytes,
                          std::int64_t memory_requested_bytes) {
    row_.cpu_memory_known = true;
    row_.cpu_allocatable_milli = cpu_allocatable_milli;
    row_.cpu_requested_milli = cpu_requested_milli;
    row_.memory_allocatable_bytes = memory_allocatable_bytes;
    row_.memory_requested_bytes = memory_requested_bytes;
    return *this;
  }
  NodeBuilder& unhealthy() {
    row_.health = NodeHealth::kUnhealthy;
    return *this;
  }
  NodeBuilder& no_sgx() {
    row_.has_sgx = false;
    return *this;
  }
  NodeBuilder& never_reported() {
    row_.ever_reported = false;
    return *this;
  }

  NodeRow build() const { return row_; }
  operator NodeRow() const { return row_; }  // NOLINT: lets table rows hold a builder expression

 private:
  NodeRow row_;
};

// Names parameterised rows after their `name` field (letters and digits only).
struct RowName {
  template <typename Row>
  std::string operator()(const ::testing::TestParamInfo<Row>& row_info) const {
    return std::string(row_info.param.name);
  }
};

inline PodRequest pod(std::int64_t epc_bytes, std::int64_t enclave_slots = 0,
                      std::int64_t provision_slots = 0) {
  return PodRequest{epc_bytes, enclave_slots, provision_slots};
}

}  // namespace epc::core::testing_support
