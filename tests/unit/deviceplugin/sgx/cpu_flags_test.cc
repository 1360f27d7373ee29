#include "deviceplugin/sgx/cpu_flags.h"

#include <gtest/gtest.h>

namespace epc::deviceplugin::sgx {
namespace {

TEST(CpuFlags, ReadsSgxFlagsFromFirstFlagsLine) {
  auto flags = parse_cpu_flags(
      "processor\t: 0\nflags\t\t: fpu sgx avx sgx_lc sgx2\n\nprocessor\t: 1\nflags\t\t: fpu\n");
  ASSERT_TRUE(flags.ok()) << flags.error().message;
  EXPECT_TRUE(flags->sgx);
  EXPECT_TRUE(flags->sgx_lc);
  EXPECT_TRUE(flags->sgx2);
}

TEST(CpuFlags, NoSgxWords) {
  auto flags = parse_cpu_flags("flags\t\t: fpu vme avx2\n");
  ASSERT_TRUE(flags.ok());
  EXPECT_FALSE(flags->sgx);
  EXPECT_FALSE(flags->sgx_lc);
  EXPECT_FALSE(flags->sgx2);
}

TEST(CpuFlags, WholeWordsOnly) {
  // "sgx_foo" and "xsgx" are other flags; "sgx" must be a word of its own.
  auto flags = parse_cpu_flags("flags : sgx_foo xsgx sgx_lcx\n");
  ASSERT_TRUE(flags.ok());
  EXPECT_FALSE(flags->sgx);
  EXPECT_FALSE(flags->sgx_lc);
}

TEST(CpuFlags, LastWordWithoutNewlineAndCrlf) {
  auto flags = parse_cpu_flags("flags : fpu sgx\r\n");
  ASSERT_TRUE(flags.ok());
  EXPECT_TRUE(flags->sgx);
  auto tail = parse_cpu_flags("flags : sgx_lc");
  ASSERT_TRUE(tail.ok());
  EXPECT_TRUE(tail->sgx_lc);
}

TEST(CpuFlags, OtherKeysContainingFlagsAreIgnored) {
  // "vmx flags" (newer kernels) is not the CPU flags line.
  auto flags = parse_cpu_flags("vmx flags\t: sgx\nflags\t: fpu\n");
  ASSERT_TRUE(flags.ok());
  EXPECT_FALSE(flags->sgx);
}

TEST(CpuFlags, NoFlagsLineIsAnError) {
  EXPECT_FALSE(parse_cpu_flags("").ok());
  EXPECT_FALSE(parse_cpu_flags("processor : 0\nmodel name : x\n").ok());
  EXPECT_FALSE(parse_cpu_flags(std::string_view("\x7f"
                                                "ELF\0\0\x01garbage",
                                                13))
                   .ok());
}

}  // namespace
}  // namespace epc::deviceplugin::sgx
