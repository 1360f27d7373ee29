#include "deviceplugin/sgx/sgx_info.h"

#include <array>
#include <cstdio>

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

std::string format_bytes(std::uint64_t bytes) {
  static constexpr std::array<const char*, 5> kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
  std::size_t unit = 0;
  std::uint64_t whole = bytes;
  std::uint64_t rest = 0;  // remainder of the last division, in the unit below
  while (whole >= 1024 && unit + 1 < kUnits.size()) {
    rest = whole % 1024;
    whole /= 1024;
    ++unit;
  }
  const std::uint64_t tenths = rest * 10 / 1024;
  std::array<char, 48> buf{};
  if (tenths == 0) {
    std::snprintf(buf.data(), buf.size(), "%llu %s", static_cast<unsigned long long>(whole),
                  kUnits[unit]);
  } else {
    std::snprintf(buf.data(), buf.size(), "%llu.%llu %s", static_cast<unsigned long long>(whole),
                  static_cast<unsigned long long>(tenths), kUnits[unit]);
  }
  return buf.data();
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
  out += ", EPC " + format_bytes(info.epc_capacity_bytes) + " in " +
         std::to_string(info.epc_sections.size()) + " section(s) (" + source_name(info.epc_source) +
         ")";
  out += info.devices.enclave ? ", /dev/sgx_enclave present" : ", /dev/sgx_enclave missing";
  out += info.devices.provision ? ", /dev/sgx_provision present" : ", /dev/sgx_provision missing";
  if (info.live_epc.known) {
    out += ", live EPC use " + format_bytes(info.live_epc.used_bytes) + " of " +
           format_bytes(info.live_epc.capacity_bytes);
  } else {
    out += ", live EPC use unknown";
  }
  return out;
}

}  // namespace epc::deviceplugin::sgx
