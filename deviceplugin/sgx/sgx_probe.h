#pragma once

#include <cstdint>
#include <optional>

namespace epc::deviceplugin::sgx {

// The four registers one CPUID instruction returns.
struct CpuidRegisters {
  std::uint32_t eax = 0;
  std::uint32_t ebx = 0;
  std::uint32_t ecx = 0;
  std::uint32_t edx = 0;
};

// Access to the CPUID instruction, the hardware's own account of SGX (leaf 0x07 feature bits,
// leaf 0x12 SGX capabilities and EPC sections). An interface so discovery can be tested with fake
// registers on machines without SGX (tests/unit/deviceplugin/sgx/fake_sgx_probe.h); the real one
// is SgxProbeImpl. The plugin uses CPUID only when its root is "/": a fake root describes another
// machine than the CPU it runs on.
//
// Thread-safety: implementations are stateless or immutable; cpuid() may be called from any thread.
class SgxProbe {
 public:
  virtual ~SgxProbe() = default;

  // The registers for (leaf, subleaf), or nullopt when the CPU does not implement `leaf` (above
  // its maximum basic leaf) or CPUID is not available at all (not x86).
  virtual std::optional<CpuidRegisters> cpuid(std::uint32_t leaf, std::uint32_t subleaf) const = 0;
};

}  // namespace epc::deviceplugin::sgx
