#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/result.h"
#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace grpc {
class Server;
}  // namespace grpc

namespace epc::tools::standins {

// One Register call as the stand-in received it, plus what it learnt while handling it.
struct RegistrationRecord {
  std::string version;
  std::string endpoint;
  std::string resource_name;
  bool request_pre_start_required = false;
  bool request_get_preferred_allocation_available = false;
  // GetDevicePluginOptions, called on the plugin's socket inside Register (as kubelet >= 1.25).
  bool options_pre_start_required = false;
  bool options_get_preferred_allocation_available = false;
  std::chrono::steady_clock::time_point at;
};

// A device as the last ListAndWatch message listed it.
struct DeviceView {
  std::string id;
  std::string health;
  bool has_topology = false;
};

// A kubelet stand-in for tests and the demo: a real gRPC Registration server on
// <dir>/kubelet.sock that behaves like kubelet's (spec §5): it checks the version and the
// resource name, dials the plugin back at <dir>/<endpoint>, calls GetDevicePluginOptions inside
// Register and refuses the registration when that fails, then opens ListAndWatch on a thread of
// its own and keeps the latest device list per resource (last registration wins). Tests can call
// Allocate, GetPreferredAllocation and PreStartContainer like kubelet does, and restart() it like
// a kubelet restart: stop serving, delete every socket in the directory, serve a new kubelet.sock.
//
// Thread-safety: all public functions may be called from any thread.
class KubeletStandin {
 public:
  explicit KubeletStandin(std::string dir);
  ~KubeletStandin();
  KubeletStandin(const KubeletStandin&) = delete;
  KubeletStandin& operator=(const KubeletStandin&) = delete;

  common::Result<std::monostate> start();
  // Stops serving, ends every plugin stream; kubelet.sock is removed.
  void stop();
  // stop(), remove every unix socket in the directory (plugins' too), start().
  common::Result<std::monostate> restart();

  const std::string& dir() const { return dir_; }
  std::string socket_path() const;

  std::vector<RegistrationRecord> registrations() const;
  std::size_t registration_count(const std::string& resource) const;
  // Waits until at least `count` registrations of `resource` were accepted.
  bool wait_for_registrations(const std::string& resource, std::size_t count,
                              std::chrono::milliseconds timeout) const;

  // The latest ListAndWatch list for `resource` (nullopt before the first message).
  std::optional<std::vector<DeviceView>> devices(const std::string& resource) const;
  // ListAndWatch messages received for `resource` over all registrations.
  std::size_t list_messages(const std::string& resource) const;
  bool wait_for_devices(const std::string& resource,
                        const std::function<bool(const std::vector<DeviceView>&)>& predicate,
                        std::chrono::milliseconds timeout) const;
  // True while kubelet's ListAndWatch stream for `resource` is open.
  bool stream_open(const std::string& resource) const;

  common::Result<v1beta1::AllocateResponse> allocate(
      const std::string& resource, const std::vector<std::vector<std::string>>& containers);
  common::Result<v1beta1::PreferredAllocationResponse> get_preferred_allocation(
      const std::string& resource, const std::vector<std::string>& available,
      const std::vector<std::string>& must_include, std::int32_t size);
  common::Result<v1beta1::PreStartContainerResponse> pre_start_container(
      const std::string& resource, const std::vector<std::string>& ids);

 private:
  class RegistrationService;
  struct Endpoint;

  grpc::Status handle_register(const v1beta1::RegisterRequest& request);
  std::shared_ptr<Endpoint> endpoint_of(const std::string& resource) const;
  static void close_endpoint(const std::shared_ptr<Endpoint>& endpoint);

  const std::string dir_;
  std::unique_ptr<RegistrationService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::mutex server_mutex_;  // start/stop

  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<RegistrationRecord> registrations_;               // guarded by mutex_
  std::map<std::string, std::shared_ptr<Endpoint>> endpoints_;  // guarded by mutex_
  std::map<std::string, std::vector<DeviceView>> devices_;      // guarded by mutex_
  std::map<std::string, std::size_t> list_messages_;            // guarded by mutex_
};

}  // namespace epc::tools::standins
