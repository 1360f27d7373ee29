// epc-device-plugin: the per-node SGX device plugin.
//
// Startup: flags -> SGX discovery under --root (CPUID only when the root is "/") -> with
// --extender, the NodeReports stream (node state kept by a NodeStateKeeper, slot holders from
// PodResources) -> one kubelet device plugin per usable resource, served and registered by the
// PluginSupervisor, which also re-registers after kubelet restarts. The main thread waits for a
// stop signal and re-reads live EPC use (misc cgroup) every few seconds where the kernel has it.
// Logs go to stderr, one line per event, with a UTC time.
// SIGINT/SIGTERM stop serving and exit 0. Exit 1: discovery found garbage or startup failed;
// exit 2: bad flags.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <malloc.h>
#include <unistd.h>

#include "deviceplugin/health_policy.h"
#include "deviceplugin/kubelet/plugin_supervisor.h"
#include "deviceplugin/kubelet/pod_resources_client_impl.h"
#include "deviceplugin/kubelet/registration_client_impl.h"
#include "deviceplugin/live_epc_poller.h"
#include "deviceplugin/plugin_config.h"
#include "deviceplugin/plugin_metrics.h"
#include "deviceplugin/report/node_state_keeper.h"
#include "deviceplugin/report/report_fanout.h"
#include "deviceplugin/report/report_stream.h"
#include "deviceplugin/report/slot_tracker.h"
#include "deviceplugin/sgx/discovery.h"
#include "deviceplugin/sgx/sgx_probe_impl.h"
#include "deviceplugin/sgx_resources.h"
#include "deviceplugin/status_server.h"
#include "deviceplugin/stop_signals.h"

namespace {

namespace dp = epc::deviceplugin;

constexpr const char* kPluginVersion = "0.1.0";
// Live EPC use (misc cgroup) is re-read this often where the kernel offers it.
constexpr std::chrono::milliseconds kLiveEpcPeriod{5000};

// ---------------------------------------------------------------------------------------------
// Logging: "2025-01-02T03:04:05.678Z epc-device-plugin: <line>", whole lines from any thread.

std::mutex log_mutex;

void log_line(const std::string& line) {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &utc);
  std::lock_guard lock(log_mutex);
  std::fprintf(stderr, "%s.%03dZ epc-device-plugin: %s\n", stamp, static_cast<int>(millis),
               line.c_str());
  std::fflush(stderr);
}

std::string default_node_name() {
  if (const char* env = std::getenv("NODE_NAME"); env != nullptr && *env != '\0') {
    return env;
  }
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) == 0) {
    return host;
  }
  return "unknown";
}

// ---------------------------------------------------------------------------------------------
// The pieces run() composes, each started from the configuration.

// The report side: only with --extender. It never blocks the kubelet side (update() is
// non-blocking). Members are null without --extender; the tracker also on a node serving nothing.
struct Reporting {
  std::unique_ptr<dp::report::ReportFanout> stream;
  std::unique_ptr<dp::report::NodeStateKeeper> keeper;
  std::unique_ptr<dp::report::SlotTracker> tracker;
};

epc::common::Result<Reporting> start_reporting(const dp::PluginConfig& config,
                                               const dp::sgx::SgxInfo& info, bool serves_plugins) {
  Reporting out;
  if (config.extender.empty()) {
    return out;
  }
  const dp::report::NodeState initial =
      dp::report::initial_node_state(info, config.enclave_limit, config.provision_limit);
  dp::report::ReportFanout::Options fanout;
  dp::report::ReportStream::Options& stream_options = fanout.stream;
  stream_options.target = config.extender;
  stream_options.node_name = config.node_name;
  stream_options.instance_id = dp::report::ReportStream::new_instance_id();
  stream_options.plugin_version = kPluginVersion;
  stream_options.heartbeat = config.heartbeat;
  stream_options.log = log_line;
  stream_options.tls = dp::report::ExtenderTls{.ca_file = config.extender_ca_file,
                                               .server_name = config.extender_server_name,
                                               .token_file = config.extender_token_file,
                                               .client_cert_file = config.extender_client_cert_file,
                                               .client_key_file = config.extender_client_key_file};
  log_line(std::string("reporting to ") + config.extender +
           (config.extender_ca_file.empty()
                ? " in plain text"
                : std::string(" over TLS") +
                      (!config.extender_token_file.empty()         ? ", with a ServiceAccount token"
                       : !config.extender_client_cert_file.empty() ? ", with a client certificate"
                                                                   : "")));
  fanout.every_address = config.extender_every_address;
  fanout.resolve_period = config.extender_resolve_period;
  auto created = dp::report::ReportFanout::create(std::move(fanout), initial);
  if (!created.ok()) {
    return created.error();
  }
  out.stream = std::move(created).value();
  out.keeper = std::make_unique<dp::report::NodeStateKeeper>(
      initial, std::string(epc::common::kEnclaveResource),
      std::string(epc::common::kProvisionResource),
      [raw = out.stream.get()](const dp::report::NodeState& s) { raw->update(s); });
  if (serves_plugins) {
    dp::report::SlotTracker::Options tracker_options;
    tracker_options.enclave_resource = std::string(epc::common::kEnclaveResource);
    tracker_options.provision_resource = std::string(epc::common::kProvisionResource);
    tracker_options.period = config.holders_period;
    tracker_options.log = log_line;
    out.tracker = std::make_unique<dp::report::SlotTracker>(
        tracker_options,
        std::make_unique<dp::kubelet::PodResourcesClientImpl>(config.pod_resources_socket,
                                                              std::chrono::seconds(10)),
        [raw = out.keeper.get()](const std::vector<dp::report::Holder>& holders) {
          raw->set_holders(holders);
        });
  }
  return out;
}

// The kubelet side: one device plugin per usable resource, served and registered (and
// re-registered after kubelet restarts) by the supervisor. Allocations wake the tracker, health
// changes go to the keeper (both may be null: no --extender).
epc::common::Result<std::unique_ptr<dp::kubelet::PluginSupervisor>> start_supervisor(
    const dp::PluginConfig& config, std::vector<dp::kubelet::PluginSettings> plugins,
    dp::report::SlotTracker* tracker, dp::report::NodeStateKeeper* keeper) {
  dp::kubelet::PluginSupervisor::Options options;
  options.device_plugin_dir = config.kubelet_dir;
  options.check_interval = config.check_interval;
  options.log = log_line;
  options.allocated = [tracker](const std::string& resource, const std::vector<std::string>& ids) {
    std::string list;
    for (const std::string& id : ids) {
      list += list.empty() ? id : "," + id;
    }
    log_line(resource + ": allocated " + list);
    if (tracker != nullptr) {
      tracker->poke();  // learn the holder soon (PodResources lists it once the pod is admitted)
    }
  };
  options.health_changed = [keeper](const std::string& resource, bool healthy) {
    if (keeper != nullptr) {
      keeper->set_resource_health(resource, healthy);
    }
  };
  return dp::kubelet::PluginSupervisor::create(
      options, std::move(plugins),
      std::make_unique<dp::kubelet::RegistrationClientImpl>(
          dp::kubelet::join_path(config.kubelet_dir, dp::kubelet::kKubeletSocketName),
          config.register_timeout));
}

// ---------------------------------------------------------------------------------------------

int run(dp::PluginConfig config) {
  // Before any thread exists: gRPC's threads inherit the blocked mask, so only the waits below
  // receive SIGINT/SIGTERM.
  const dp::StopSignals stop_signals;

  if (config.node_name.empty()) {
    config.node_name = default_node_name();
  }
  if (!config.config_file.empty()) {
    log_line("configuration file " + config.config_file + " (flags override it)");
  }
  log_line("starting on node " + config.node_name + ", root " + config.root + ", kubelet dir " +
           config.kubelet_dir);

  const dp::sgx::SgxProbeImpl cpu;
  dp::sgx::DiscoveryOptions discovery;
  discovery.root = config.root;
  discovery.probe = config.root == "/" ? &cpu : nullptr;
  auto info = dp::sgx::discover(discovery);
  if (!info.ok()) {
    log_line("SGX discovery failed, refusing to advertise anything: " + info.error().message);
    return 1;
  }
  log_line("SGX: " + dp::sgx::describe(*info));
  for (const std::string& note : info->notes) {
    log_line("note: " + note);
  }
  auto plugins = dp::sgx_plugin_settings(
      config.root, *info, dp::SlotLimits{config.enclave_limit, config.provision_limit});

  auto reporting = start_reporting(config, *info, !plugins.empty());
  if (!reporting.ok()) {
    log_line("cannot start reporting: " + reporting.error().message);
    return 1;
  }
  const Reporting& report = *reporting;

  std::unique_ptr<dp::kubelet::PluginSupervisor> supervisor;
  if (plugins.empty()) {
    log_line("SGX not usable here (" + info->unusable_reason() +
             "): advertising no sgx.intel.com resources; idle until stopped");
  } else {
    auto created =
        start_supervisor(config, std::move(plugins), report.tracker.get(), report.keeper.get());
    if (!created.ok()) {
      log_line("cannot start: " + created.error().message);
      return 1;
    }
    supervisor = std::move(created).value();
  }

  // Live EPC use is re-read on the main thread (below) where the kernel offers it and someone
  // listens.
  std::unique_ptr<dp::LiveEpcPoller> live_epc;
  if (info->live_epc.known && report.keeper != nullptr) {
    live_epc = std::make_unique<dp::LiveEpcPoller>(
        dp::LiveEpcPoller::Options{config.root, kLiveEpcPeriod},
        [keeper = report.keeper.get()](bool known, std::uint64_t used_bytes) {
          keeper->set_live_epc(known, used_bytes);
        });
  }

  std::unique_ptr<dp::StatusServer> status;
  if (!config.healthz_address.empty()) {
    dp::PluginMetricsSources sources{
        .node_name = config.node_name,
        .version = kPluginVersion,
        .sgx_usable = info->usable(),
        .epc_capacity_bytes = info->epc_capacity_bytes,
        .epc_sections = info->epc_sections.size(),
        .live_epc_accounted = info->live_epc.known,
        .supervisor = supervisor.get(),
        .stream = report.stream.get(),
        .live_epc = live_epc.get(),
    };
    auto created = dp::StatusServer::create(
        config.healthz_address,
        dp::make_health_check(
            supervisor.get(),
            dp::kubelet::join_path(config.kubelet_dir, dp::kubelet::kKubeletSocketName)),
        [sources = std::move(sources)] { return dp::render_plugin_metrics(sources); });
    if (!created.ok()) {
      log_line("cannot serve /healthz and /metrics: " + created.error().message);
      return 1;
    }
    status = std::move(created).value();
    const auto colon = config.healthz_address.rfind(':');
    log_line("healthz and metrics listening on " + config.healthz_address.substr(0, colon) + ":" +
             std::to_string(status->port()));
  }

  const int signal = live_epc ? live_epc->run_until_stopped(stop_signals) : stop_signals.wait();
  log_line(std::string("received ") + dp::stop_signal_name(signal) + ", stopping");
  // Reverse order: no more probes, no more Allocate callbacks, no more holder polls, the stream.
  if (status) {
    status->stop();
  }
  if (supervisor) {
    supervisor->stop();
  }
  if (report.tracker) {
    report.tracker->stop();
  }
  if (report.stream) {
    report.stream->stop();
  }
  log_line("stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // One malloc arena for the whole process, set before any thread exists. glibc otherwise gives
  // threads that meet on the malloc lock arenas of their own (up to 8 per core), each keeping its
  // touched pages: 13 arenas in the idle plugin, ~0.15 MiB of RSS (docs/benchmarks.md). The
  // plugin's threads mostly sleep and Allocate builds a few small messages, so one shared lock
  // costs nothing measurable.
  mallopt(M_ARENA_MAX, 1);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto config = dp::parse_plugin_flags(args);
  if (!config.ok()) {
    std::fprintf(stderr, "epc-device-plugin: %s\nRun `epc-device-plugin --help` for the options.\n",
                 config.error().message.c_str());
    return 2;
  }
  if (config->help_requested) {
    std::fputs(dp::plugin_help_text().c_str(), stdout);
    return 0;
  }
  if (config->check_requested) {
    std::puts("epc-device-plugin: the configuration is valid");
    return 0;
  }
  return run(std::move(config).value());
}
