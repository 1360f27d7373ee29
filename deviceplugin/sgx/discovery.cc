#include "deviceplugin/sgx/discovery.h"

#include <string_view>
#include <utility>

#include "deviceplugin/sgx/cpu_flags.h"
#include "deviceplugin/sgx/cpuid_sgx.h"
#include "deviceplugin/sgx/device_nodes.h"
#include "deviceplugin/sgx/epc_sections.h"
#include "deviceplugin/sgx/misc_cgroup.h"
#include "deviceplugin/sgx/root_fs.h"

namespace epc::deviceplugin::sgx {

namespace {

constexpr std::string_view kCpuinfoPath = "/proc/cpuinfo";
// The first CPU's block (with its flags line) is ~2 KiB; reading more is waste on 256-CPU hosts.
constexpr std::size_t kCpuinfoPrefixBytes = 64 * 1024;

// Features from CPUID when it answers; the CPUID result is returned for its EPC sections.
common::Result<bool> discover_features(const DiscoveryOptions& options, SgxInfo& info,
                                       CpuidSgx& cpuid) {
  if (options.probe != nullptr) {
    cpuid = read_cpuid_sgx(*options.probe);
    if (cpuid.leaf7_available) {
      info.sgx1 = cpuid.sgx && cpuid.sgx1;
      info.sgx2 = cpuid.sgx && cpuid.sgx2;
      info.flc = cpuid.flc;
      info.features_source = Source::kCpuid;
      return true;
    }
    info.notes.emplace_back("CPUID leaf 07H not available; using cpuinfo flags");
  }
  const std::string path = rooted(options.root, kCpuinfoPath);
  auto text = read_file_prefix(path, kCpuinfoPrefixBytes);
  if (!text.ok()) {
    return text.error();
  }
  if (!text->has_value()) {
    info.notes.push_back(path + " not found: CPU features unknown");
    return true;
  }
  auto flags = parse_cpu_flags(**text);
  if (!flags.ok()) {
    return common::Error{path + ": " + flags.error().message};
  }
  info.sgx1 = flags->sgx;
  info.sgx2 = flags->sgx && flags->sgx2;
  info.flc = flags->sgx_lc;
  info.features_source = Source::kCpuinfo;
  return true;
}

common::Result<bool> discover_epc(const DiscoveryOptions& options, const CpuidSgx& cpuid,
                                  SgxInfo& info) {
  auto sysfs = read_sysfs_epc_sections(options.root);
  if (!sysfs.ok()) {
    return sysfs.error();
  }
  if (sysfs->has_value()) {
    info.epc_sections = std::move(**sysfs);
    info.epc_source = Source::kSysfs;
  } else if (!cpuid.epc_section_bytes.empty()) {
    for (const std::uint64_t bytes : cpuid.epc_section_bytes) {
      info.epc_sections.push_back(EpcSection{-1, bytes});
    }
    info.epc_source = Source::kCpuid;
    info.notes.emplace_back("no sgx_total_bytes in sysfs: EPC sections from CPUID, NUMA unknown");
  } else if (info.sgx1) {
    info.notes.emplace_back("EPC size unknown: no sgx_total_bytes in sysfs and no CPUID sections");
  }
  for (const EpcSection& section : info.epc_sections) {
    info.epc_capacity_bytes += section.size_bytes;
  }
  return true;
}

}  // namespace

common::Result<SgxInfo> discover(const DiscoveryOptions& options) {
  SgxInfo info;
  CpuidSgx cpuid;
  if (auto done = discover_features(options, info, cpuid); !done.ok()) {
    return done.error();
  }
  if (auto done = discover_epc(options, cpuid, info); !done.ok()) {
    return done.error();
  }
  info.devices = find_device_nodes(options.root);
  auto live = read_live_epc(options.root);
  if (!live.ok()) {
    return live.error();
  }
  info.live_epc = *live;
  if (!info.live_epc.known) {
    info.notes.emplace_back("live EPC use unknown: no sgx_epc in the misc cgroup");
  }
  return info;
}

}  // namespace epc::deviceplugin::sgx
