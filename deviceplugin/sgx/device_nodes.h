#pragma once

#include <string_view>

#include "deviceplugin/sgx/sgx_info.h"

namespace epc::deviceplugin::sgx {

// The device nodes of the in-kernel SGX driver, as seen inside containers and on the host.
inline constexpr std::string_view kEnclaveDevicePath = "/dev/sgx_enclave";
inline constexpr std::string_view kProvisionDevicePath = "/dev/sgx_provision";

// Which of the two device nodes exist under `root` (any non-directory entry counts, so a fake
// root can use regular files).
DeviceNodes find_device_nodes(std::string_view root);

}  // namespace epc::deviceplugin::sgx
