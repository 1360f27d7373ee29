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
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include "deviceplugin/healthz_server.h"
#include "deviceplugin/kubelet/plugin_supervisor.h"
#include "deviceplugin/kubelet/pod_resources_client_impl.h"
#include "deviceplugin/kubelet/registration_client_impl.h"
#include "deviceplugin/plugin_config.h"
#include "deviceplugin/report/node_state_keeper.h"
#include "deviceplugin/report/report_stream.h"
#include "deviceplugin/report/slot_tracker.h"
#include "deviceplugin/sgx/discovery.h"
#include "deviceplugin/sgx/misc_cgroup.h"
#include "deviceplugin/sgx/sgx_probe_impl.h"
#include "deviceplugin/sgx_resources.h"

namespace {

namespace dp = epc::deviceplugin;

constexpr const char* kPluginVersion = "0.1.0";
// Live EPC use (misc cgroup) is re-read this often where the kernel offers it.
constexpr std::chrono::seconds kLiveEpcPeriod{5};

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

int run(dp::PluginConfig config) {
  // Block the stop signals in every thread (gRPC's threads inherit this mask) so that only the
  // sigwait() below receives them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

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

  // The report side: only with --extender. It never blocks what follows (update() is non-blocking).
  std::unique_ptr<dp::report::ReportStream> stream;
  std::unique_ptr<dp::report::NodeStateKeeper> keeper;
  std::unique_ptr<dp::report::SlotTracker> tracker;
  if (!config.extender.empty()) {
    const dp::report::NodeSnapshot initial =
        dp::report::initial_snapshot(*info, config.enclave_limit, config.provision_limit);
    dp::report::ReportStream::Options stream_options;
    stream_options.target = config.extender;
    stream_options.node_name = config.node_name;
    stream_options.instance_id = dp::report::ReportStream::new_instance_id();
    stream_options.plugin_version = kPluginVersion;
    stream_options.heartbeat = config.heartbeat;
    stream_options.log = log_line;
    auto created = dp::report::ReportStream::create(stream_options, initial);
    if (!created.ok()) {
      log_line("cannot start reporting: " + created.error().message);
      return 1;
    }
    stream = std::move(created).value();
    keeper = std::make_unique<dp::report::NodeStateKeeper>(
        initial, std::string(dp::kEnclaveResource), std::string(dp::kProvisionResource),
        [raw = stream.get()](const dp::report::NodeSnapshot& s) { raw->update(s); });
    if (!plugins.empty()) {
      dp::report::SlotTracker::Options tracker_options;
      tracker_options.enclave_resource = std::string(dp::kEnclaveResource);
      tracker_options.provision_resource = std::string(dp::kProvisionResource);
      tracker_options.period = config.holders_period;
      tracker_options.log = log_line;
      tracker = std::make_unique<dp::report::SlotTracker>(
          tracker_options,
          std::make_unique<dp::kubelet::PodResourcesClientImpl>(config.pod_resources_socket,
                                                                std::chrono::seconds(10)),
          [raw = keeper.get()](const std::vector<dp::report::Holder>& holders) {
            raw->set_holders(holders);
          });
    }
  }

  std::unique_ptr<dp::kubelet::PluginSupervisor> supervisor;
  if (plugins.empty()) {
    log_line("SGX not usable here (" + info->unusable_reason() +
             "): advertising no sgx.intel.com resources; idle until stopped");
  } else {
    dp::kubelet::PluginSupervisor::Options options;
    options.device_plugin_dir = config.kubelet_dir;
    options.check_interval = config.check_interval;
    options.log = log_line;
    options.allocated = [raw = tracker.get()](const std::string& resource,
                                              const std::vector<std::string>& ids) {
      std::string list;
      for (const std::string& id : ids) {
        list += list.empty() ? id : "," + id;
      }
      log_line(resource + ": allocated " + list);
      if (raw != nullptr) {
        raw->poke();  // learn the holder soon (PodResources lists it once the pod is admitted)
      }
    };
    options.health_changed = [raw = keeper.get()](const std::string& resource, bool healthy) {
      if (raw != nullptr) {
        raw->set_resource_health(resource, healthy);
      }
    };
    auto created = dp::kubelet::PluginSupervisor::create(
        options, std::move(plugins),
        std::make_unique<dp::kubelet::RegistrationClientImpl>(
            dp::kubelet::join_path(config.kubelet_dir, dp::kubelet::kKubeletSocketName),
            config.register_timeout));
    if (!created.ok()) {
      log_line("cannot start: " + created.error().message);
      return 1;
    }
    supervisor = std::move(created).value();
  }

  // /healthz: healthy while every resource is served and registered with kubelet (kubelet only
  // offers the resources then); a node without SGX has nothing to register and is healthy.
  std::unique_ptr<dp::HealthzServer> healthz;
  if (!config.healthz_address.empty()) {
    auto created = dp::HealthzServer::create(
        config.healthz_address,
        [raw = supervisor.get(), kubelet_socket = dp::kubelet::join_path(
                                     config.kubelet_dir, dp::kubelet::kKubeletSocketName)]()
            -> dp::HealthVerdict {
          if (raw == nullptr) {
            return {true, ""};
          }
          // kubelet gone (restarting): the supervisor's view lags until the new one is back.
          if (::access(kubelet_socket.c_str(), F_OK) != 0) {
            return {false, kubelet_socket + " missing: kubelet not running"};
          }
          for (const auto& status : raw->status()) {
            if (!status.serving || !status.registered) {
              return {false, status.resource_name + " not " +
                                 (status.serving ? "registered with kubelet" : "served") +
                                 (status.last_error.empty() ? "" : ": " + status.last_error)};
            }
          }
          return {true, ""};
        });
    if (!created.ok()) {
      log_line("cannot serve /healthz: " + created.error().message);
      return 1;
    }
    healthz = std::move(created).value();
    const auto colon = config.healthz_address.rfind(':');
    log_line("healthz listening on " + config.healthz_address.substr(0, colon) + ":" +
             std::to_string(healthz->port()));
  }

  int signal = 0;
  const bool live_epc = info->live_epc.known && keeper != nullptr;
  for (;;) {
    const timespec period{static_cast<std::time_t>(kLiveEpcPeriod.count()), 0};
    signal = live_epc ? sigtimedwait(&stop_signals, nullptr, &period)
                      : sigwaitinfo(&stop_signals, nullptr);
    if (signal == SIGINT || signal == SIGTERM) {
      break;
    }
    if (live_epc) {
      auto live = dp::sgx::read_live_epc(config.root);
      if (live.ok()) {
        keeper->set_live_epc(live->known, live->used_bytes);
      } else {
        keeper->set_live_epc(false, 0);  // garbage now: say unknown rather than a stale number
      }
    }
  }
  log_line(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + ", stopping");
  // Reverse order: no more probes, no more Allocate callbacks, no more holder polls, the stream.
  if (healthz) {
    healthz->stop();
  }
  if (supervisor) {
    supervisor->stop();
  }
  if (tracker) {
    tracker->stop();
  }
  if (stream) {
    stream->stop();
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
  return run(std::move(config).value());
}
