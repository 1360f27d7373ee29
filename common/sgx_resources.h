#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace epc::common {

// The extended resource names that SGX workloads request (spec/extender-api.md §10).
inline constexpr std::string_view kEpcResource = "sgx.intel.com/epc";
inline constexpr std::string_view kEnclaveResource = "sgx.intel.com/enclave";
inline constexpr std::string_view kProvisionResource = "sgx.intel.com/provision";

// Other vendors' SGX device plugins name EPC differently and count it in MiB, not bytes: Azure's
// (AKS confcom add-on) and Alibaba Cloud's. A pod written for them asks for "10" meaning 10 MiB.
inline constexpr std::string_view kAzureEpcResource = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
inline constexpr std::string_view kAlibabaEpcResource = "alibabacloud.com/sgx_epc_MiB";

// A resource name read as EPC: its quantity times `bytes_per_unit` is the EPC in bytes.
struct ResourceAlias {
  std::string name;
  std::int64_t bytes_per_unit = 1;

  friend bool operator==(const ResourceAlias&, const ResourceAlias&) = default;
};

// The aliases understood unless the configuration says otherwise: both vendors' MiB counts.
inline std::vector<ResourceAlias> default_epc_aliases() {
  return {{std::string(kAzureEpcResource), std::int64_t{1} << 20},
          {std::string(kAlibabaEpcResource), std::int64_t{1} << 20}};
}

}  // namespace epc::common
