#include "deviceplugin/sgx/cpuid_sgx.h"

#include <gtest/gtest.h>

#include "tests/unit/deviceplugin/sgx/fake_sgx_probe.h"

namespace epc::deviceplugin::sgx {
namespace {

constexpr std::uint64_t kGiB = 1ULL << 30;

TEST(CpuidSgx, NoCpuidAtAll) {
  FakeSgxProbe probe;  // not x86
  const CpuidSgx sgx = read_cpuid_sgx(probe);
  EXPECT_FALSE(sgx.leaf7_available);
  EXPECT_FALSE(sgx.sgx);
  EXPECT_TRUE(sgx.epc_section_bytes.empty());
}

TEST(CpuidSgx, CpuWithoutSgxBitDoesNotReadLeaf12) {
  FakeSgxProbe probe;
  probe.enable();
  probe.set(0x07, 0, {0, 0, 0, 0});
  // Leaf 12H with garbage: must not be read when leaf 7 says no SGX.
  probe.set(0x12, 0, {0x3, 0, 0, 0});
  const CpuidSgx sgx = read_cpuid_sgx(probe);
  EXPECT_TRUE(sgx.leaf7_available);
  EXPECT_FALSE(sgx.sgx);
  EXPECT_FALSE(sgx.sgx1);
  EXPECT_FALSE(sgx.sgx2);
}

TEST(CpuidSgx, Sgx1WithoutFlcOneSection) {
  // 93.5 MiB EPC (0x5D80000): low dword carries bits 31:12, high dword 0.
  const FakeSgxProbe probe = FakeSgxProbe::sgx_cpu(false, false, {0x5D80000});
  const CpuidSgx sgx = read_cpuid_sgx(probe);
  EXPECT_TRUE(sgx.sgx);
  EXPECT_TRUE(sgx.sgx1);
  EXPECT_FALSE(sgx.sgx2);
  EXPECT_FALSE(sgx.flc);
  ASSERT_EQ(sgx.epc_section_bytes.size(), 1U);
  EXPECT_EQ(sgx.epc_section_bytes[0], 0x5D80000U);
}

TEST(CpuidSgx, Sgx2TwoSectionsAbove4GiB) {
  // 64 GiB = 0x10_0000_0000: bits 51:32 = 0x10 in EDX, ECX low bits 0 (plus property bits 3:0).
  const FakeSgxProbe probe = FakeSgxProbe::sgx_cpu(true, true, {64 * kGiB, 64 * kGiB + 4096});
  const CpuidSgx sgx = read_cpuid_sgx(probe);
  EXPECT_TRUE(sgx.sgx2);
  EXPECT_TRUE(sgx.flc);
  ASSERT_EQ(sgx.epc_section_bytes.size(), 2U);
  EXPECT_EQ(sgx.epc_section_bytes[0], 64 * kGiB);
  EXPECT_EQ(sgx.epc_section_bytes[1], 64 * kGiB + 4096);
}

TEST(CpuidSgx, SectionEnumerationStopsAtInvalidSubleafAndIsBounded) {
  FakeSgxProbe probe = FakeSgxProbe::sgx_cpu(false, true, {});
  // Every subleaf claims to be a section (a broken hypervisor): at most kMaxEpcSections are read.
  for (std::uint32_t sub = 2; sub < 2 + kMaxEpcSections + 10; ++sub) {
    probe.set(0x12, sub, {0x1, 0, 0x1000, 0});
  }
  const CpuidSgx sgx = read_cpuid_sgx(probe);
  EXPECT_EQ(sgx.epc_section_bytes.size(), kMaxEpcSections);
}

}  // namespace
}  // namespace epc::deviceplugin::sgx
