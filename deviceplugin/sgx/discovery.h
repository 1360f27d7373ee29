#pragma once

#include <string>

#include "common/result.h"
#include "deviceplugin/sgx/sgx_info.h"
#include "deviceplugin/sgx/sgx_probe.h"

namespace epc::deviceplugin::sgx {

struct DiscoveryOptions {
  // Prefix of every path read ("/" on a real node, a fake tree in tests and the demo).
  std::string root = "/";
  // CPUID access, or null to skip CPUID. The plugin passes SgxProbeImpl only when root is "/":
  // the CPU it runs on says nothing about a fake root. Not owned; must outlive discover().
  const SgxProbe* probe = nullptr;
};

// Finds out what SGX the node has. Sources, in order of trust:
// - features (SGX1, SGX2, FLC): CPUID leaves 07H/12H when a probe answers; otherwise the
//   "flags" line of <root>/proc/cpuinfo (sgx, sgx2, sgx_lc); neither -> all false, with a note;
// - EPC sections: <root>/sys/devices/system/node/node*/x86/sgx_total_bytes (per NUMA node) when
//   the kernel has them; otherwise the CPUID EPC sections (NUMA node unknown); neither -> none;
// - device nodes: <root>/dev/sgx_enclave, <root>/dev/sgx_provision;
// - live EPC use: the misc cgroup's sgx_epc lines, unknown when the kernel lacks them.
// Missing sources are notes, not errors. Files that exist but hold garbage (or cannot be read)
// -> Error naming the file: a node that reports nonsense must not be trusted with pods.
//
// Thread-safety: reentrant; touches nothing but the files it reads.
common::Result<SgxInfo> discover(const DiscoveryOptions& options);

}  // namespace epc::deviceplugin::sgx
