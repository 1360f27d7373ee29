#pragma once

#include <string_view>

namespace epc::common {

// The extended resource names that SGX workloads request (spec/extender-api.md §10).
inline constexpr std::string_view kEpcResource = "sgx.intel.com/epc";
inline constexpr std::string_view kEnclaveResource = "sgx.intel.com/enclave";
inline constexpr std::string_view kProvisionResource = "sgx.intel.com/provision";

}  // namespace epc::common
