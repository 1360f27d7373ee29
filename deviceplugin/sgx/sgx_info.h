#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace epc::deviceplugin::sgx {

// Where a piece of discovered information came from, for logs and tests.
enum class Source : std::uint8_t { kNone, kCpuid, kCpuinfo, kSysfs };

// One EPC section. NUMA node -1 = unknown (CPUID reports physical ranges, not nodes).
struct EpcSection {
  std::int32_t numa_node = -1;
  std::uint64_t size_bytes = 0;
};

// Presence of the SGX device nodes of the in-kernel driver (Linux >= 5.11).
struct DeviceNodes {
  bool enclave = false;    // /dev/sgx_enclave: needed to build any enclave
  bool provision = false;  // /dev/sgx_provision: needed for provisioning (attestation) enclaves
};

// Live EPC use from the misc cgroup controller's sgx_epc resource, where the kernel has it.
// Mainline kernels without it give known = false: say "unknown", never a made-up 0.
struct LiveEpc {
  bool known = false;
  std::uint64_t used_bytes = 0;
  std::uint64_t capacity_bytes = 0;
};

// Everything discovery found out about a node's SGX, as plain values (no proto, no I/O).
struct SgxInfo {
  bool sgx1 = false;  // enclaves can be built (SGX1 instructions)
  bool sgx2 = false;  // EDMM (SGX2 instructions)
  bool flc = false;   // Flexible Launch Control (the in-tree driver requires it)
  Source features_source = Source::kNone;

  std::vector<EpcSection> epc_sections;  // sections with a size > 0
  std::uint64_t epc_capacity_bytes = 0;  // sum of the sections
  Source epc_source = Source::kNone;

  DeviceNodes devices;
  LiveEpc live_epc;

  // Why some information is missing or was chosen over another source, one sentence each.
  std::vector<std::string> notes;

  // SGX is there for pods: SGX1 and the enclave device node. When false, the plugin advertises
  // nothing (no slots), and says why (unusable_reason()).
  bool usable() const { return sgx1 && devices.enclave; }
  std::string unusable_reason() const;
};

// One line for operators: "SGX1 SGX2 FLC, EPC 128 GiB in 2 sections (sysfs), /dev/sgx_enclave
// present, /dev/sgx_provision present, live EPC use unknown".
std::string describe(const SgxInfo& info);

}  // namespace epc::deviceplugin::sgx
