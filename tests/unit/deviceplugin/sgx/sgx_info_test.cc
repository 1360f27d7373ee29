#include "deviceplugin/sgx/sgx_info.h"

#include <gtest/gtest.h>

namespace epc::deviceplugin::sgx {
namespace {

TEST(Describe, SaysWhatIsThereAndWhatIsUnknown) {
  SgxInfo info;
  info.sgx1 = true;
  info.sgx2 = true;
  info.flc = true;
  info.features_source = Source::kCpuinfo;
  info.epc_sections = {{0, 64ULL << 30}, {1, 64ULL << 30}};
  info.epc_capacity_bytes = 128ULL << 30;
  info.epc_source = Source::kSysfs;
  info.devices.enclave = true;
  const std::string text = describe(info);
  EXPECT_NE(text.find("SGX1 SGX2 FLC"), std::string::npos) << text;
  EXPECT_NE(text.find("EPC 128Gi in 2 section(s) (sysfs)"), std::string::npos) << text;
  EXPECT_NE(text.find("/dev/sgx_provision missing"), std::string::npos) << text;
  EXPECT_NE(text.find("live EPC use unknown"), std::string::npos) << text;
}

}  // namespace
}  // namespace epc::deviceplugin::sgx
