#include "deviceplugin/sgx/sgx_info.h"

#include <array>
#include <cstdio>

#include "common/byte_format.h"

namespace epc::deviceplugin::sgx {

namespace {

const char* source_name(Source source) {
  switch (source) {
    case Source::kCpuid:
      return "cpuid";
    case Source::kCpuinfo:
      return "cpuinfo";
    case Source::kSysfs:
      return "sysfs";
    case Source::kNone:
      break;
  }
  return "none";
}

}  // namespace

std::string SgxInfo::unusable_reason() const {
  if (usable()) {
    return {};
  }
  if (!sgx1) {
    if (features_source == Source::kNone) {
      return "no SGX: CPU features unknown (no CPUID, no cpuinfo flags)";
    }
    return "no SGX: the CPU or kernel does not offer SGX1";
  }
  if (!flc) {
    return "SGX1 without Flexible Launch Control: the in-kernel driver needs FLC, and "
           "/dev/sgx_enclave is missing";
  }
  return "SGX present but /dev/sgx_enclave is missing (driver not loaded or device not mounted)";
}

std::string describe(const SgxInfo& info) {
  std::string out;
  if (!info.sgx1) {
    out = "no SGX1";
  } else {
    out = "SGX1";
    if (info.sgx2) {
      out += " SGX2";
    }
    out += info.flc ? " FLC" : " no-FLC";
  }
  out += std::string(" (features: ") + source_name(info.features_source) + ")";
  out += ", EPC " + common::format_bytes(static_cast<std::int64_t>(info.epc_capacity_bytes)) +
         " in " + std::to_string(info.epc_sections.size()) + " section(s) (" +
         source_name(info.epc_source) + ")";
  out += info.devices.enclave ? ", /dev/sgx_enclave present" : ", /dev/sgx_enclave missing";
  out += info.devices.provision ? ", /dev/sgx_provision present" : ", /dev/sgx_provision missing";
  if (info.live_epc.known) {
    out += ", live EPC use " +
           common::format_bytes(static_cast<std::int64_t>(info.live_epc.used_bytes)) + " of " +
           common::format_bytes(static_cast<std::int64_t>(info.live_epc.capacity_bytes));
  } else {
    out += ", live EPC use unknown";
  }
  return out;
}

}  // namespace epc::deviceplugin::sgx
