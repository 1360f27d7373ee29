#pragma once

#include <string_view>

#include "common/result.h"

namespace epc::deviceplugin::sgx {

// The SGX-related CPU feature flags the kernel lists in /proc/cpuinfo. The kernel clears "sgx"
// when it cannot use SGX (disabled in firmware, no FLC for the in-tree driver), so these describe
// what the running kernel offers, not only what the silicon has.
struct CpuFlags {
  bool sgx = false;     // "sgx": SGX1 instructions usable
  bool sgx_lc = false;  // "sgx_lc": Flexible Launch Control
  bool sgx2 = false;    // "sgx2": SGX2 (EDMM) instructions
};

// The flags of the first "flags" line of /proc/cpuinfo text (every CPU lists the same set). A text
// with no "flags" line (truncated, not cpuinfo, binary garbage) -> Error.
common::Result<CpuFlags> parse_cpu_flags(std::string_view cpuinfo);

}  // namespace epc::deviceplugin::sgx
