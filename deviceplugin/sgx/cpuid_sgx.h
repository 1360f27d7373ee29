#pragma once

#include <cstdint>
#include <vector>

#include "deviceplugin/sgx/sgx_probe.h"

namespace epc::deviceplugin::sgx {

// What CPUID says about SGX (Intel SDM vol. 2A, CPUID leaves 07H and 12H).
struct CpuidSgx {
  bool leaf7_available = false;  // false: the probe could not answer at all (no CPUID / not x86)
  bool sgx = false;              // CPUID.(7,0):EBX[2]
  bool flc = false;              // CPUID.(7,0):ECX[30] SGX_LC, Flexible Launch Control
  bool sgx1 = false;             // CPUID.(12H,0):EAX[0]
  bool sgx2 = false;             // CPUID.(12H,0):EAX[1]
  // Sizes of the valid EPC sections, CPUID.(12H, n >= 2) with EAX[3:0] == 1, in subleaf order.
  // CPUID gives physical ranges, not NUMA nodes.
  std::vector<std::uint64_t> epc_section_bytes;
};

// At most this many EPC sections are enumerated; real parts have one per socket (<= 8), the bound
// only guards against a (virtualised) CPUID that never reports the end marker.
inline constexpr std::uint32_t kMaxEpcSections = 64;

// Reads leaves 07H and 12H through `probe`. Leaf 12H is only read when leaf 07H reports SGX.
CpuidSgx read_cpuid_sgx(const SgxProbe& probe);

}  // namespace epc::deviceplugin::sgx
