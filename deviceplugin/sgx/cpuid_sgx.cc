#include "deviceplugin/sgx/cpuid_sgx.h"

namespace epc::deviceplugin::sgx {

namespace {

constexpr std::uint32_t kFeatureLeaf = 0x07;
constexpr std::uint32_t kSgxLeaf = 0x12;
constexpr std::uint32_t kFirstEpcSubleaf = 2;
constexpr std::uint32_t kEbxSgxBit = 1U << 2;
constexpr std::uint32_t kEcxSgxLcBit = 1U << 30;
constexpr std::uint32_t kEaxSgx1Bit = 1U << 0;
constexpr std::uint32_t kEaxSgx2Bit = 1U << 1;
constexpr std::uint32_t kSubleafTypeMask = 0xF;
constexpr std::uint32_t kSubleafTypeInvalid = 0;
constexpr std::uint32_t kSubleafTypeEpcSection = 1;
// Section size: bits 31:12 in ECX are bits 31:12 of the size, bits 19:0 in EDX are bits 51:32.
constexpr std::uint32_t kSizeLowMask = 0xFFFFF000U;
constexpr std::uint32_t kSizeHighMask = 0x000FFFFFU;

}  // namespace

CpuidSgx read_cpuid_sgx(const SgxProbe& probe) {
  CpuidSgx out;
  const auto leaf7 = probe.cpuid(kFeatureLeaf, 0);
  if (!leaf7) {
    return out;
  }
  out.leaf7_available = true;
  out.sgx = (leaf7->ebx & kEbxSgxBit) != 0;
  out.flc = (leaf7->ecx & kEcxSgxLcBit) != 0;
  if (!out.sgx) {
    return out;
  }
  const auto caps = probe.cpuid(kSgxLeaf, 0);
  if (!caps) {
    return out;
  }
  out.sgx1 = (caps->eax & kEaxSgx1Bit) != 0;
  out.sgx2 = (caps->eax & kEaxSgx2Bit) != 0;
  for (std::uint32_t i = 0; i < kMaxEpcSections; ++i) {
    const auto section = probe.cpuid(kSgxLeaf, kFirstEpcSubleaf + i);
    if (!section || (section->eax & kSubleafTypeMask) == kSubleafTypeInvalid) {
      break;
    }
    if ((section->eax & kSubleafTypeMask) != kSubleafTypeEpcSection) {
      continue;  // reserved types: skip, later subleaves may still be sections
    }
    const std::uint64_t size = static_cast<std::uint64_t>(section->ecx & kSizeLowMask) |
                               (static_cast<std::uint64_t>(section->edx & kSizeHighMask) << 32);
    if (size > 0) {
      out.epc_section_bytes.push_back(size);
    }
  }
  return out;
}

}  // namespace epc::deviceplugin::sgx
