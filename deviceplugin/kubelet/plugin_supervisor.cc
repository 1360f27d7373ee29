#include "deviceplugin/kubelet/plugin_supervisor.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <utility>

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace epc::deviceplugin::kubelet {

namespace {

// Identity of a file: a re-created kubelet.sock is a different file even when the filesystem
// hands out the same inode number again (tmpfs does), because its ctime differs.
struct FileId {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  std::int64_t ctime_ns = 0;

  bool operator==(const FileId&) const = default;
};

FileId file_id(const std::string& path) {
  struct stat st {};
  FileId id;
  if (::stat(path.c_str(), &st) != 0) {
    return id;
  }
  id.exists = true;
  id.dev = st.st_dev;
  id.ino = st.st_ino;
  id.ctime_ns = static_cast<std::int64_t>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
  return id;
}

bool all_exist(const std::vector<std::string>& paths) {
  return std::all_of(paths.begin(), paths.end(), [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
  });
}

std::string missing_paths(const std::vector<std::string>& paths) {
  std::string out;
  for (const std::string& path : paths) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      out += out.empty() ? path : ", " + path;
    }
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Per-resource state. Loop-thread only, except the atomics (set from the service threads).
struct PluginSupervisor::Plugin {
  explicit Plugin(PluginSettings s) : settings(std::move(s)) {}

  const PluginSettings settings;
  std::unique_ptr<PluginServer> server;
  bool health_known = false;
  bool healthy = false;
  bool registered = false;
  FileId registered_kubelet;          // kubelet.sock as it was when Register succeeded
  bool kubelet_seen_missing = false;  // kubelet.sock vanished since we registered
  Clock::time_point next_attempt{};   // next serve or Register attempt
  std::chrono::milliseconds backoff{0};
  std::optional<Clock::time_point> lost_since;  // ListAndWatch closed by kubelet, not reopened
  std::uint64_t serves = 0;
  std::uint64_t registrations = 0;
  std::uint64_t registration_failures = 0;
  std::uint64_t kubelet_restarts = 0;
  std::string last_error;
  std::string last_logged_error;

  std::atomic<int> open_streams{0};
  std::atomic<bool> stream_lost{false};
  std::atomic<std::uint64_t> allocate_calls{0};
  std::atomic<std::uint64_t> allocate_refusals{0};
};

// ---------------------------------------------------------------------------------------------

PluginSupervisor::PluginSupervisor(Options options,
                                   std::unique_ptr<RegistrationClient> registration, int wake_fd)
    : options_(std::move(options)),
      kubelet_socket_path_(join_path(options_.device_plugin_dir, kKubeletSocketName)),
      registration_(std::move(registration)),
      wake_fd_(wake_fd) {}

common::Result<std::unique_ptr<PluginSupervisor>> PluginSupervisor::create(
    Options options, std::vector<PluginSettings> plugins,
    std::unique_ptr<RegistrationClient> registration) {
  if (registration == nullptr) {
    return common::Error{"no registration client"};
  }
  if (options.check_interval.count() <= 0 || options.retry_initial.count() <= 0 ||
      options.retry_max < options.retry_initial || options.stream_grace.count() < 0) {
    return common::Error{"supervisor intervals must be positive, retry_max >= retry_initial"};
  }
  for (std::size_t i = 0; i < plugins.size(); ++i) {
    if (auto valid = validate(plugins[i], options.device_plugin_dir); !valid.ok()) {
      return valid.error();
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (plugins[j].resource_name == plugins[i].resource_name ||
          plugins[j].socket_name == plugins[i].socket_name) {
        return common::Error{"resource " + plugins[i].resource_name +
                             " configured twice (same name or socket)"};
      }
    }
  }
  const int wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd < 0) {
    return common::Error{std::string("eventfd: ") + std::strerror(errno)};
  }
  std::unique_ptr<PluginSupervisor> out(
      new PluginSupervisor(std::move(options), std::move(registration), wake_fd));
  for (PluginSettings& settings : plugins) {
    out->plugins_.push_back(std::make_unique<Plugin>(std::move(settings)));
  }
  if (!out->watcher_.valid()) {
    out->log("inotify unavailable: kubelet restarts are detected by polling every " +
             std::to_string(out->options_.check_interval.count()) + " ms");
  }
  out->publish_status();
  out->thread_ = std::thread([self = out.get()] { self->run(); });
  return out;
}

PluginSupervisor::~PluginSupervisor() {
  stop();
  ::close(wake_fd_);
}

void PluginSupervisor::stop() {
  if (stopping_.exchange(true)) {
    if (thread_.joinable()) {
      thread_.join();
    }
    return;
  }
  registration_->cancel();
  wake();
  if (thread_.joinable()) {
    thread_.join();
  }
  for (auto& plugin : plugins_) {
    if (plugin->server) {
      plugin->server->shutdown();
      plugin->server.reset();
      log(plugin->settings.resource_name + ": stopped serving");
    }
    plugin->registered = false;
  }
  publish_status();
}

void PluginSupervisor::wake() {
  const std::uint64_t one = 1;
  // EAGAIN means the counter is already non-zero: a wake-up is pending anyway.
  [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof(one));
}

std::vector<PluginSupervisor::PluginStatus> PluginSupervisor::status() const {
  std::vector<PluginStatus> out;
  {
    std::lock_guard lock(status_mutex_);
    out = status_;
  }
  // Allocate counts as of now: a scrape right after an Allocate sees it. plugins_ holds the same
  // plugins in the same order from create() on.
  for (std::size_t i = 0; i < out.size() && i < plugins_.size(); ++i) {
    out[i].allocate_calls = plugins_[i]->allocate_calls.load();
    out[i].allocate_refusals = plugins_[i]->allocate_refusals.load();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The loop.

void PluginSupervisor::run() {
  ::pthread_setname_np(::pthread_self(), "epc-dp-kubelet");  // for ps/top and leak checks
  Clock::time_point now = Clock::now();
  evaluate(now, false);
  Clock::time_point last_check = now;
  while (!stopping_.load()) {
    now = Clock::now();
    const Clock::time_point deadline = next_deadline(last_check);
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    const int timeout_ms = static_cast<int>(
        std::clamp<std::int64_t>(wait.count(), 0, options_.check_interval.count()));
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {watcher_.fd(), POLLIN, 0}};
    const nfds_t count = watcher_.valid() ? 2 : 1;
    if (::poll(fds, count, timeout_ms) < 0 && errno != EINTR) {
      log(std::string("poll: ") + std::strerror(errno));
    }
    if ((fds[0].revents & POLLIN) != 0) {
      std::uint64_t value = 0;
      [[maybe_unused]] const ssize_t got = ::read(wake_fd_, &value, sizeof(value));
    }
    bool kubelet_created = false;
    if (count == 2 && (fds[1].revents & POLLIN) != 0) {
      const DirWatcher::Events events = watcher_.drain();
      kubelet_created = std::find(events.created.begin(), events.created.end(),
                                  kKubeletSocketName) != events.created.end();
    }
    if (stopping_.load()) {
      break;
    }
    now = Clock::now();
    evaluate(now, kubelet_created);
    last_check = now;
  }
}

void PluginSupervisor::evaluate(Clock::time_point now, bool kubelet_created) {
  if (watcher_.valid() && !watcher_.watching()) {
    if (watcher_.ensure_watching(options_.device_plugin_dir)) {
      dir_missing_logged_ = false;
    } else if (!dir_missing_logged_) {
      dir_missing_logged_ = true;
      log("cannot watch " + options_.device_plugin_dir +
          " (missing?): waiting for it, checking every " +
          std::to_string(options_.check_interval.count()) + " ms");
    }
  }
  const FileId kubelet = file_id(kubelet_socket_path_);
  if (kubelet.exists) {
    kubelet_missing_logged_ = false;
  } else if (!kubelet_missing_logged_) {
    kubelet_missing_logged_ = true;
    log("waiting for kubelet: " + kubelet_socket_path_ + " does not exist");
  }
  for (auto& owned : plugins_) {
    Plugin& plugin = *owned;
    check_health(plugin);
    if (kubelet_created) {
      // A new kubelet is coming up: try now rather than at the end of a long backoff.
      plugin.backoff = std::chrono::milliseconds{0};
      plugin.next_attempt = now;
    }
    if (needs_reserve(plugin, now)) {
      reserve(plugin, now);
    }
    if (plugin.server && !plugin.registered && kubelet.exists && now >= plugin.next_attempt &&
        !stopping_.load()) {
      try_register(plugin, now);
    }
  }
  publish_status();
}

void PluginSupervisor::check_health(Plugin& plugin) {
  const bool healthy = all_exist(plugin.settings.health_paths);
  if (plugin.health_known && healthy == plugin.healthy) {
    return;
  }
  plugin.health_known = true;
  plugin.healthy = healthy;
  if (plugin.server) {
    plugin.server->service().set_healthy(healthy);
  }
  if (healthy) {
    log(plugin.settings.resource_name + ": slots Healthy");
  } else {
    log(plugin.settings.resource_name + ": slots Unhealthy: missing " +
        missing_paths(plugin.settings.health_paths));
  }
  if (options_.health_changed) {
    options_.health_changed(plugin.settings.resource_name, healthy);
  }
}

bool PluginSupervisor::needs_reserve(Plugin& plugin, Clock::time_point now) {
  const std::string& name = plugin.settings.resource_name;
  if (!plugin.server) {
    return now >= plugin.next_attempt;
  }
  if (!plugin.server->socket_intact()) {
    log(name + ": socket " + plugin.server->socket_path() +
        " was removed (kubelet restart?): serving again");
    ++plugin.kubelet_restarts;  // kubelet empties the plugin directory when it starts
    return true;
  }
  if (!plugin.registered) {
    return false;
  }
  const FileId kubelet = file_id(kubelet_socket_path_);
  if (!kubelet.exists) {
    plugin.kubelet_seen_missing = true;  // kubelet is down; act when its socket is back
    return false;
  }
  if (plugin.kubelet_seen_missing || kubelet != plugin.registered_kubelet) {
    log(name + ": " + kubelet_socket_path_ + " was re-created (kubelet restart): serving again");
    ++plugin.kubelet_restarts;
    return true;
  }
  if (plugin.stream_lost.load()) {
    if (!plugin.lost_since) {
      plugin.lost_since = now;
    } else if (now - *plugin.lost_since >= options_.stream_grace) {
      log(name + ": kubelet closed ListAndWatch and did not come back: registering again");
      return true;
    }
  } else {
    plugin.lost_since.reset();
  }
  return false;
}

void PluginSupervisor::reserve(Plugin& plugin, Clock::time_point now) {
  if (plugin.server) {
    plugin.server->shutdown();
    plugin.server.reset();
  }
  plugin.registered = false;
  plugin.kubelet_seen_missing = false;
  plugin.lost_since.reset();
  plugin.open_streams.store(0);
  plugin.stream_lost.store(false);

  Plugin* raw = &plugin;
  DevicePluginService::Callbacks callbacks;
  callbacks.stream_opened = [raw] {
    raw->open_streams.fetch_add(1);
    raw->stream_lost.store(false);
  };
  callbacks.stream_closed = [this, raw] {
    if (raw->open_streams.fetch_sub(1) <= 1) {
      raw->stream_lost.store(true);
      wake();
    }
  };
  if (options_.allocated) {
    callbacks.allocated = [this, raw](const std::vector<std::string>& ids) {
      options_.allocated(raw->settings.resource_name, ids);
    };
  }
  callbacks.allocate_done = [raw](bool ok) {
    raw->allocate_calls.fetch_add(1);
    if (!ok) {
      raw->allocate_refusals.fetch_add(1);
    }
  };
  auto server = PluginServer::create(options_.device_plugin_dir, plugin.settings, plugin.healthy,
                                     std::move(callbacks));
  if (!server.ok()) {
    plugin.backoff =
        std::min(plugin.backoff.count() == 0 ? options_.retry_initial : plugin.backoff * 2,
                 options_.retry_max);
    plugin.next_attempt = now + plugin.backoff;
    plugin.last_error = server.error().message;
    if (plugin.last_error != plugin.last_logged_error) {
      plugin.last_logged_error = plugin.last_error;
      log(plugin.settings.resource_name + ": cannot serve: " + plugin.last_error + " (retrying)");
    }
    return;
  }
  plugin.server = std::move(server).value();
  ++plugin.serves;
  plugin.backoff = std::chrono::milliseconds{0};
  plugin.next_attempt = now;
  log(plugin.settings.resource_name + ": serving " + std::to_string(plugin.settings.slots) +
      " slots on " + plugin.server->socket_path());
}

void PluginSupervisor::try_register(Plugin& plugin, Clock::time_point now) {
  // Read before the call: if kubelet restarts while we register, the next check sees a
  // different kubelet.sock and registers with the new kubelet.
  const FileId kubelet = file_id(kubelet_socket_path_);
  RegistrationRequest request;
  request.endpoint = plugin.settings.socket_name;
  request.resource_name = plugin.settings.resource_name;
  request.options = plugin.settings.options;
  auto result = registration_->register_plugin(request);
  if (result.ok()) {
    plugin.registered = true;
    plugin.registered_kubelet = kubelet;
    plugin.kubelet_seen_missing = false;
    ++plugin.registrations;
    plugin.backoff = std::chrono::milliseconds{0};
    plugin.last_error.clear();
    plugin.last_logged_error.clear();
    log(plugin.settings.resource_name + ": registered with kubelet (endpoint " +
        plugin.settings.socket_name + ", " + std::to_string(plugin.settings.slots) + " slots " +
        std::string(plugin.healthy ? kHealthy : kUnhealthy) + ")");
    return;
  }
  const Clock::time_point after = Clock::now();
  plugin.backoff =
      std::min(plugin.backoff.count() == 0 ? options_.retry_initial : plugin.backoff * 2,
               options_.retry_max);
  plugin.next_attempt = std::max(now, after) + plugin.backoff;
  ++plugin.registration_failures;
  plugin.last_error = result.error().message;
  if (plugin.last_error != plugin.last_logged_error && !stopping_.load()) {
    plugin.last_logged_error = plugin.last_error;
    log(plugin.settings.resource_name + ": registration failed: " + plugin.last_error +
        " (retrying with backoff up to " + std::to_string(options_.retry_max.count()) + " ms)");
  }
}

PluginSupervisor::Clock::time_point PluginSupervisor::next_deadline(
    Clock::time_point last_check) const {
  Clock::time_point deadline = last_check + options_.check_interval;
  const bool kubelet_present = file_id(kubelet_socket_path_).exists;
  for (const auto& plugin : plugins_) {
    if (!plugin->server || (!plugin->registered && kubelet_present)) {
      deadline = std::min(deadline, plugin->next_attempt);
    }
    if (plugin->lost_since) {
      deadline = std::min(deadline, *plugin->lost_since + options_.stream_grace);
    }
  }
  return deadline;
}

void PluginSupervisor::publish_status() {
  std::vector<PluginStatus> out;
  out.reserve(plugins_.size());
  for (const auto& plugin : plugins_) {
    PluginStatus s;
    s.resource_name = plugin->settings.resource_name;
    s.serving = plugin->server != nullptr;
    s.registered = plugin->registered;
    s.healthy = plugin->healthy;
    s.serve_count = plugin->serves;
    s.registration_count = plugin->registrations;
    s.registration_failures = plugin->registration_failures;
    s.kubelet_restarts = plugin->kubelet_restarts;
    s.last_error = plugin->last_error;
    out.push_back(std::move(s));
  }
  std::lock_guard lock(status_mutex_);
  status_ = std::move(out);
}

void PluginSupervisor::log(const std::string& line) const {
  if (options_.log) {
    options_.log(line);
  }
}

}  // namespace epc::deviceplugin::kubelet
