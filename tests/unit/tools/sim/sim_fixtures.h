#pragma once

#include <cstdint>
#include <string>

#include "tools/sim/trace.h"

// Small hand-made clusters for the simulator's tests, in GiB and whole CPUs.
namespace epc::tools::sim::testing_support {

inline constexpr std::int64_t kGi = std::int64_t{1} << 30;

inline SimNode node(std::string name, std::int64_t cpus, std::int64_t memory_gib,
                    std::int64_t epc_gib, std::int64_t slots = 110) {
  return SimNode{.name = std::move(name),
                 .cpu_milli = cpus * 1000,
                 .memory_bytes = memory_gib * kGi,
                 .epc_bytes = epc_gib * kGi,
                 .enclave_slots = slots,
                 .max_pods = 110};
}

// `n` with pre-existing use: EPC in GiB, enclave slots and pods held by pods that stay.
inline SimNode with_use(SimNode n, std::int64_t epc_used_gib, std::int64_t slots_used = 0,
                        std::int64_t pods_used = 0) {
  n.epc_used_bytes = epc_used_gib * kGi;
  n.enclave_slots_used = slots_used;
  n.pods_used = pods_used;
  return n;
}

inline SimPod pod(std::int64_t cpus, std::int64_t memory_gib, std::int64_t epc_gib,
                  std::int64_t lifetime_s = -1) {
  return SimPod{.name = "pod",
                .cpu_milli = cpus * 1000,
                .memory_bytes = memory_gib * kGi,
                .epc_bytes = epc_gib * kGi,
                .enclave_slots = 1,
                .lifetime_s = lifetime_s};
}

}  // namespace epc::tools::sim::testing_support
