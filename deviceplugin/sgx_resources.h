#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/sgx_resources.h"
#include "deviceplugin/kubelet/plugin_settings.h"
#include "deviceplugin/sgx/sgx_info.h"

namespace epc::deviceplugin {

struct SlotLimits {
  std::uint32_t enclave = kubelet::kDefaultSlots;
  std::uint32_t provision = kubelet::kDefaultSlots;
};

// The kubelet plugins for what discovery found (resource names from common/sgx_resources.h: the
// names Intel's SGX plugin uses, so workloads and Intel's admission webhook work unchanged) under
// `root`:
// - nothing when SGX is not usable (no SGX1 or no /dev/sgx_enclave): advertise no slot at all;
// - sgx.intel.com/enclave: `limits.enclave` slots, each Allocate mounts /dev/sgx_enclave (rw);
// - sgx.intel.com/provision: only when /dev/sgx_provision exists, mounts /dev/sgx_provision (rw).
// Health follows the device node under `root`; containers get the host path /dev/... (the root
// is where this process looks, not where the kubelet's runtime finds devices).
std::vector<kubelet::PluginSettings> sgx_plugin_settings(std::string_view root,
                                                         const sgx::SgxInfo& info,
                                                         SlotLimits limits);

}  // namespace epc::deviceplugin
