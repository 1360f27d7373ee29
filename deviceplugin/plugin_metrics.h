#pragma once

#include <cstdint>
#include <string>

namespace epc::deviceplugin {

namespace kubelet {
class PluginSupervisor;
}
namespace report {
class ReportFanout;
}
class LiveEpcPoller;

// What the plugin's GET /metrics shows (docs/metrics.md, "What the device plugin serves"). Values
// are read from the pieces that own them at scrape time, so nothing in the plugin pays for metrics
// between scrapes.
struct PluginMetricsSources {
  std::string node_name;
  std::string version;
  // SGX discovery, once at start.
  bool sgx_usable = false;
  std::uint64_t epc_capacity_bytes = 0;
  std::uint64_t epc_sections = 0;
  bool live_epc_accounted = false;  // the kernel has the misc cgroup's sgx_epc
  // Each may be null: nothing served (no usable SGX), no --extender, no live EPC to poll. They
  // must outlive every scrape.
  const kubelet::PluginSupervisor* supervisor = nullptr;
  const report::ReportFanout* stream = nullptr;
  const LiveEpcPoller* live_epc = nullptr;
};

// The Prometheus text exposition (format 0.0.4) of `sources` now.
std::string render_plugin_metrics(const PluginMetricsSources& sources);

}  // namespace epc::deviceplugin
