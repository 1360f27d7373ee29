#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "deviceplugin/kubelet/plugin_settings.h"
#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace epc::deviceplugin::kubelet {

// The kubelet DevicePlugin service for one resource, on gRPC's callback API (no thread per
// stream). Answers come from memory only: kubelet sets no deadline on Allocate and calls
// GetDevicePluginOptions inside Register (spec §3.2), so nothing here blocks.
//
// - GetDevicePluginOptions: settings.options.
// - ListAndWatch: the full slot list at once (Healthy/Unhealthy, no topology), then a full list
//   after every health change; the stream ends only when kubelet cancels it or the server shuts
//   down (returning is treated by kubelet like a crash).
// - Allocate: per container request, the settings' device nodes as DeviceSpecs and nothing else.
//   Unknown ids -> INVALID_ARGUMENT; slots unhealthy (device node gone) -> FAILED_PRECONDITION
//   (kubelet was told by ListAndWatch first, as the API asks).
// - GetPreferredAllocation: preferred_allocation() per container.
// - PreStartContainer: nothing to do for SGX: OK (unknown ids -> INVALID_ARGUMENT).
//
// One instance serves one grpc::Server (gRPC registers a service once); a new server after a
// kubelet restart gets a new instance. Thread-safety: all public functions may be called from any
// thread. Lifetime: begin_shutdown(), then the server's Shutdown(), then wait_idle() before
// destruction.
class DevicePluginService final : public v1beta1::DevicePlugin::CallbackService {
 public:
  // Called on gRPC threads; must not block. stream_closed is not called for streams ended by our
  // own shutdown.
  struct Callbacks {
    std::function<void()> stream_opened;
    std::function<void()> stream_closed;
    // After a successful Allocate, once per container request, with its slot ids.
    std::function<void(const std::vector<std::string>& device_ids)> allocated;
  };

  DevicePluginService(PluginSettings settings, bool healthy, Callbacks callbacks);
  ~DevicePluginService() override;

  DevicePluginService(const DevicePluginService&) = delete;
  DevicePluginService& operator=(const DevicePluginService&) = delete;

  // v1beta1::DevicePlugin::CallbackService
  grpc::ServerUnaryReactor* GetDevicePluginOptions(grpc::CallbackServerContext* context,
                                                   const v1beta1::Empty* request,
                                                   v1beta1::DevicePluginOptions* response) override;
  grpc::ServerWriteReactor<v1beta1::ListAndWatchResponse>* ListAndWatch(
      grpc::CallbackServerContext* context, const v1beta1::Empty* request) override;
  grpc::ServerUnaryReactor* GetPreferredAllocation(
      grpc::CallbackServerContext* context, const v1beta1::PreferredAllocationRequest* request,
      v1beta1::PreferredAllocationResponse* response) override;
  grpc::ServerUnaryReactor* Allocate(grpc::CallbackServerContext* context,
                                     const v1beta1::AllocateRequest* request,
                                     v1beta1::AllocateResponse* response) override;
  grpc::ServerUnaryReactor* PreStartContainer(
      grpc::CallbackServerContext* context, const v1beta1::PreStartContainerRequest* request,
      v1beta1::PreStartContainerResponse* response) override;

  // Sets the health of every slot; on a change, every open ListAndWatch stream gets the new list.
  void set_healthy(bool healthy);
  bool healthy() const;

  // From here on no callbacks; call before shutting the server down.
  void begin_shutdown();
  // Blocks until every ListAndWatch stream is done (after the server's Shutdown()).
  void wait_idle();
  std::size_t open_streams() const;

  const PluginSettings& settings() const { return settings_; }

 private:
  class ListAndWatchReactor;

  v1beta1::ListAndWatchResponse device_list_locked() const;
  void stream_done(ListAndWatchReactor* reactor);

  const PluginSettings settings_;
  const Callbacks callbacks_;
  mutable std::mutex mutex_;
  std::condition_variable idle_cv_;
  bool healthy_;                               // guarded by mutex_
  bool shutting_down_ = false;                 // guarded by mutex_
  std::vector<ListAndWatchReactor*> streams_;  // guarded by mutex_; alive until stream_done
};

}  // namespace epc::deviceplugin::kubelet
