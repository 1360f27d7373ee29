#include "deviceplugin/sgx/sgx_probe_impl.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace epc::deviceplugin::sgx {

std::optional<CpuidRegisters> SgxProbeImpl::cpuid(std::uint32_t leaf, std::uint32_t subleaf) const {
#if defined(__x86_64__) || defined(__i386__)
  // __get_cpuid_count checks `leaf` against the maximum basic leaf (CPUID.0:EAX) first.
  CpuidRegisters regs;
  if (__get_cpuid_count(leaf, subleaf, &regs.eax, &regs.ebx, &regs.ecx, &regs.edx) == 0) {
    return std::nullopt;
  }
  return regs;
#else
  (void)leaf;
  (void)subleaf;
  return std::nullopt;
#endif
}

}  // namespace epc::deviceplugin::sgx
