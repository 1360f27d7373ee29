#pragma once

#include "deviceplugin/sgx/sgx_probe.h"

namespace epc::deviceplugin::sgx {

// CPUID of the CPU this process runs on (x86 only; elsewhere every leaf is nullopt).
class SgxProbeImpl final : public SgxProbe {
 public:
  // SgxProbe
  std::optional<CpuidRegisters> cpuid(std::uint32_t leaf, std::uint32_t subleaf) const override;
};

}  // namespace epc::deviceplugin::sgx
