#include "deviceplugin/plugin_metrics.h"

#include <deque>
#include <utility>
#include <vector>

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include "deviceplugin/kubelet/plugin_supervisor.h"
#include "deviceplugin/live_epc_poller.h"
#include "deviceplugin/report/report_fanout.h"

namespace epc::deviceplugin {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

// Families built afresh per scrape from plain values: the plugin keeps no registry, and
// prometheus-cpp's serializer writes the format (escaping, HELP/TYPE lines).
class Families {
 public:
  MetricFamily& family(std::string name, std::string help, MetricType type) {
    families_.push_back(MetricFamily{std::move(name), std::move(help), type, {}});
    return families_.back();
  }
  static void add(MetricFamily& family, double value,
                  std::vector<ClientMetric::Label> labels = {}) {
    ClientMetric metric;
    metric.label = std::move(labels);
    if (family.type == MetricType::Counter) {
      metric.counter.value = value;
    } else {
      metric.gauge.value = value;
    }
    family.metric.push_back(std::move(metric));
  }
  std::string serialize() const {
    const std::vector<MetricFamily> all(families_.begin(), families_.end());
    return prometheus::TextSerializer().Serialize(all);
  }

 private:
  std::deque<MetricFamily> families_;  // a deque: family() hands out references that must stay
};

double number(std::uint64_t value) { return static_cast<double>(value); }
double flag(bool value) { return value ? 1.0 : 0.0; }

void add_discovery(const PluginMetricsSources& sources, Families& out) {
  Families::add(
      out.family("epc_plugin_info", "Always 1; the node this plugin runs on and its version.",
                 MetricType::Gauge),
      1.0, {{"node", sources.node_name}, {"version", sources.version}});
  Families::add(out.family("epc_plugin_sgx_usable",
                           "1 if discovery found SGX usable for pods (SGX1 and /dev/sgx_enclave).",
                           MetricType::Gauge),
                flag(sources.sgx_usable));
  Families::add(
      out.family("epc_plugin_epc_capacity_bytes",
                 "EPC the node has, summed over its sections, in bytes.", MetricType::Gauge),
      number(sources.epc_capacity_bytes));
  Families::add(
      out.family("epc_plugin_epc_sections", "EPC sections discovery found.", MetricType::Gauge),
      number(sources.epc_sections));
  Families::add(
      out.family("epc_plugin_live_epc_accounted",
                 "1 if the kernel accounts live EPC use (misc cgroup sgx_epc).", MetricType::Gauge),
      flag(sources.live_epc_accounted));
}

void add_kubelet(const kubelet::PluginSupervisor& supervisor, Families& out) {
  const std::vector<kubelet::PluginSupervisor::PluginStatus> statuses = supervisor.status();
  MetricFamily& serving =
      out.family("epc_plugin_resource_serving",
                 "1 while the resource's device plugin gRPC server runs.", MetricType::Gauge);
  MetricFamily& registered =
      out.family("epc_plugin_resource_registered",
                 "1 while the resource is registered with kubelet.", MetricType::Gauge);
  MetricFamily& healthy = out.family("epc_plugin_resource_healthy",
                                     "1 while the resource's slots are Healthy (device node "
                                     "present).",
                                     MetricType::Gauge);
  MetricFamily& registrations =
      out.family("epc_plugin_registrations_total",
                 "Register calls to kubelet, by result (ok, error).", MetricType::Counter);
  MetricFamily& restarts = out.family("epc_plugin_kubelet_restarts_total",
                                      "kubelet restarts the resource's plugin noticed (it served "
                                      "and registered again).",
                                      MetricType::Counter);
  MetricFamily& allocations =
      out.family("epc_plugin_allocate_calls_total",
                 "Allocate calls from kubelet, by result (ok, refused).", MetricType::Counter);
  for (const auto& status : statuses) {
    const std::string& resource = status.resource_name;
    Families::add(serving, flag(status.serving), {{"resource", resource}});
    Families::add(registered, flag(status.registered), {{"resource", resource}});
    Families::add(healthy, flag(status.healthy), {{"resource", resource}});
    Families::add(registrations, number(status.registration_count),
                  {{"resource", resource}, {"result", "ok"}});
    Families::add(registrations, number(status.registration_failures),
                  {{"resource", resource}, {"result", "error"}});
    Families::add(restarts, number(status.kubelet_restarts), {{"resource", resource}});
    Families::add(allocations, number(status.allocate_calls - status.allocate_refusals),
                  {{"resource", resource}, {"result", "ok"}});
    Families::add(allocations, number(status.allocate_refusals),
                  {{"resource", resource}, {"result", "refused"}});
  }
}

void add_streams(const report::ReportFanout& fanout, Families& out) {
  MetricFamily& connected = out.family("epc_plugin_report_stream_connected",
                                       "1 while the NodeReports stream to the extender (address) "
                                       "is open.",
                                       MetricType::Gauge);
  MetricFamily& connections = out.family("epc_plugin_report_stream_connections_total",
                                         "NodeReports streams opened to the extender (reconnects "
                                         "+ 1).",
                                         MetricType::Counter);
  MetricFamily& sent =
      out.family("epc_plugin_report_messages_sent_total",
                 "NodeReport messages written to the extender.", MetricType::Counter);
  MetricFamily& refused = out.family("epc_plugin_report_messages_refused_total",
                                     "Acks from the extender that refused a report (the plugin "
                                     "resyncs with a snapshot).",
                                     MetricType::Counter);
  for (const auto& [target, stats] : fanout.stats()) {
    Families::add(connected, flag(stats.connected), {{"extender", target}});
    Families::add(connections, number(stats.connections), {{"extender", target}});
    Families::add(sent, number(stats.messages_sent), {{"extender", target}});
    Families::add(refused, number(stats.messages_refused), {{"extender", target}});
  }
}

}  // namespace

std::string render_plugin_metrics(const PluginMetricsSources& sources) {
  Families out;
  add_discovery(sources, out);
  if (sources.supervisor != nullptr) {
    add_kubelet(*sources.supervisor, out);
  }
  if (sources.stream != nullptr) {
    add_streams(*sources.stream, out);
  }
  if (sources.live_epc != nullptr) {
    Families::add(
        out.family("epc_plugin_live_epc_read_errors_total",
                   "Readings of live EPC use (misc cgroup) that failed.", MetricType::Counter),
        number(sources.live_epc->read_errors()));
  }
  return out.serialize();
}

}  // namespace epc::deviceplugin
