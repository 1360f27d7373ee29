#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "deviceplugin/sgx/sgx_info.h"

namespace epc::deviceplugin::sgx {

// Directory of the NUMA nodes; each "node<N>/x86/sgx_total_bytes" (Linux >= 6.2) holds the EPC
// bytes of that node.
inline constexpr std::string_view kNumaNodesDir = "/sys/devices/system/node";

// The EPC sections per NUMA node under `root`, sorted by node, nodes with 0 bytes left out.
// No node directory or no node with the attribute (older kernel, no sysfs) -> nullopt: the kernel
// did not say. Attributes present but all 0 -> an empty list: the kernel says there is no EPC.
// An unreadable attribute or one that is not a decimal byte count -> Error naming the file.
common::Result<std::optional<std::vector<EpcSection>>> read_sysfs_epc_sections(
    std::string_view root);

}  // namespace epc::deviceplugin::sgx
