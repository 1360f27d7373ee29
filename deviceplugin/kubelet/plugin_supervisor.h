#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/result.h"
#include "deviceplugin/kubelet/dir_watcher.h"
#include "deviceplugin/kubelet/plugin_server.h"
#include "deviceplugin/kubelet/plugin_settings.h"
#include "deviceplugin/kubelet/registration_client.h"

namespace epc::deviceplugin::kubelet {

// Keeps every resource served and registered with kubelet, whatever kubelet does.
//
// One thread runs a loop that waits on inotify (the device-plugin dir), a wake-up eventfd and a
// periodic check, and on each turn, per resource:
// 1. health: all settings.health_paths exist -> Healthy, else Unhealthy; a change is pushed to
//    kubelet's ListAndWatch stream at once;
// 2. restart detection (spec §6.3), any of: our socket file gone or replaced; kubelet.sock
//    re-created (new identity, or seen missing and back); our ListAndWatch stream closed by the
//    peer and not reopened within stream_grace. Then the old server is shut down, a new one
//    listens on a fresh socket, and registration starts over;
// 3. registration: while served and not registered, Register with kubelet (serve first: kubelet
//    dials back inside Register), retrying with exponential backoff from retry_initial to
//    retry_max; kubelet.sock appearing restarts the backoff, so a restarted kubelet is answered
//    within milliseconds.
// No thread, socket or descriptor is created per restart beyond the new server's own.
//
// Thread-safety: status(), wake() and stop() from any thread. Callbacks run on the supervisor
// thread (health_changed) or on a server's service thread (allocated) and must not block.
class PluginSupervisor {
 public:
  struct Options {
    std::string device_plugin_dir{kDefaultDevicePluginDir};
    // Health checks and the stat() fallback for missed inotify events run at least this often.
    std::chrono::milliseconds check_interval{1000};
    std::chrono::milliseconds retry_initial{25};
    std::chrono::milliseconds retry_max{2000};
    // A registered resource without a ListAndWatch stream for this long registers again.
    std::chrono::milliseconds stream_grace{5000};
    // One line per event worth an operator's attention (no trailing newline).
    std::function<void(const std::string&)> log;
    std::function<void(const std::string& resource_name, const std::vector<std::string>& ids)>
        allocated;
    std::function<void(const std::string& resource_name, bool healthy)> health_changed;
  };

  struct PluginStatus {
    std::string resource_name;
    bool serving = false;
    bool registered = false;
    bool healthy = false;
    std::uint64_t serve_count = 0;         // servers started so far
    std::uint64_t registration_count = 0;  // successful Register calls so far
    std::uint64_t registration_failures = 0;
    // Restarts of kubelet this plugin noticed (its socket removed or kubelet.sock re-created).
    std::uint64_t kubelet_restarts = 0;
    std::uint64_t allocate_calls = 0;     // Allocate RPCs answered, live (not as of the last check)
    std::uint64_t allocate_refusals = 0;  // of which refused (unknown ids, unhealthy slots)
    std::string last_error;               // last serve/register failure; empty after success
  };

  // Validates every settings entry and starts the loop (serving and registering right away).
  static common::Result<std::unique_ptr<PluginSupervisor>> create(
      Options options, std::vector<PluginSettings> plugins,
      std::unique_ptr<RegistrationClient> registration);
  ~PluginSupervisor();

  PluginSupervisor(const PluginSupervisor&) = delete;
  PluginSupervisor& operator=(const PluginSupervisor&) = delete;

  // Stops the loop, cancels a Register in flight, shuts every server down. Idempotent.
  void stop();

  // Re-check everything now.
  void wake();

  // As of the end of the supervisor's last check (a Register kubelet already saw may show a moment
  // later).
  std::vector<PluginStatus> status() const;

 private:
  struct Plugin;
  using Clock = std::chrono::steady_clock;

  PluginSupervisor(Options options, std::unique_ptr<RegistrationClient> registration, int wake_fd);

  void run();
  void evaluate(Clock::time_point now, bool kubelet_created);
  void check_health(Plugin& plugin);
  bool needs_reserve(Plugin& plugin, Clock::time_point now);
  void reserve(Plugin& plugin, Clock::time_point now);
  void try_register(Plugin& plugin, Clock::time_point now);
  Clock::time_point next_deadline(Clock::time_point last_check) const;
  void publish_status();
  void log(const std::string& line) const;

  const Options options_;
  const std::string kubelet_socket_path_;
  std::unique_ptr<RegistrationClient> registration_;
  std::vector<std::unique_ptr<Plugin>> plugins_;  // loop thread only (after start)
  DirWatcher watcher_;
  const int wake_fd_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  bool dir_missing_logged_ = false;      // loop thread only
  bool kubelet_missing_logged_ = false;  // loop thread only

  mutable std::mutex status_mutex_;
  std::vector<PluginStatus> status_;  // guarded by status_mutex_
};

}  // namespace epc::deviceplugin::kubelet
