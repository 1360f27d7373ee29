#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/alarm.h>

#include "deviceplugin/kubelet/plugin_settings.h"
#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace grpc {
class ServerBuilder;
class ServerCompletionQueue;
}  // namespace grpc

namespace epc::deviceplugin::kubelet {

// The kubelet DevicePlugin service for one resource. Answers come from memory only: kubelet sets
// no deadline on Allocate and calls GetDevicePluginOptions inside Register (spec §3.2), so nothing
// here blocks.
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
// Threads: gRPC's asynchronous API, driven by one thread of the service's own ("epc-dp-serve"),
// which owns the state of every call. It starts with the server and is joined when the server
// stops, so a served socket costs one thread and a kubelet restart leaves nothing behind. Not the
// callback API: it runs every stream's OnCancel/OnDone on gRPC core's process-wide executor, which
// adds a thread whenever such reactions queue up -- as they do each time a kubelet restart cancels
// the streams -- up to 2 x cores threads that are never given back.
//
// One instance serves one grpc::Server. Lifetime (PluginServer follows it): attach() to the
// builder, BuildAndStart(), start(); later begin_shutdown(), the server's Shutdown(), stop(), and
// only then destruction. Thread-safety: set_healthy(), healthy() and open_streams() from any
// thread; the lifetime calls from the owner's thread. Callbacks run on the service thread and must
// not block.
class DevicePluginService {
 public:
  struct Callbacks {
    // A ListAndWatch stream started / ended. stream_closed is not called for streams ended by our
    // own shutdown.
    std::function<void()> stream_opened;
    std::function<void()> stream_closed;
    // After a successful Allocate, once per container request, with its slot ids.
    std::function<void(const std::vector<std::string>& device_ids)> allocated;
    // After every Allocate call: whether it succeeded.
    std::function<void(bool ok)> allocate_done;
  };

  DevicePluginService(PluginSettings settings, bool healthy, Callbacks callbacks);
  // stop()s if the owner did not.
  ~DevicePluginService();

  DevicePluginService(const DevicePluginService&) = delete;
  DevicePluginService& operator=(const DevicePluginService&) = delete;

  // Registers the service and its completion queue with `builder` (before BuildAndStart).
  void attach(grpc::ServerBuilder& builder);
  // After BuildAndStart: asks for the first call of every method and starts the service thread.
  void start();
  // From here on no new stream is accepted and no callback is made; call before the server's
  // Shutdown(), which then cancels the open streams.
  void begin_shutdown();
  // After the server's Shutdown(): closes the completion queue, lets the service thread finish
  // every call it still holds, and joins it. Idempotent.
  void stop();

  // Sets the health of every slot; on a change, every open ListAndWatch stream gets the new list.
  void set_healthy(bool healthy);
  bool healthy() const;
  std::size_t open_streams() const { return open_streams_.load(); }

  const PluginSettings& settings() const { return settings_; }

 private:
  // What a completion-queue tag points at: the call it belongs to (nullptr: the service's wake-up
  // alarm) and which of its operations completed.
  enum class Op { kRequested, kWritten, kFinished, kDone, kWake };
  class Call;
  struct Tag {
    Call* call;
    Op op;
  };
  template <typename Request, typename Response>
  class UnaryCall;
  class ListAndWatchCall;

  // The answers of the unary methods (service thread).
  grpc::Status get_options(const v1beta1::Empty& request, v1beta1::DevicePluginOptions* response);
  grpc::Status get_preferred_allocation(const v1beta1::PreferredAllocationRequest& request,
                                        v1beta1::PreferredAllocationResponse* response);
  grpc::Status allocate(const v1beta1::AllocateRequest& request,
                        v1beta1::AllocateResponse* response);
  // allocate() is this plus the allocate_done callback.
  grpc::Status allocate_slots(const v1beta1::AllocateRequest& request,
                              v1beta1::AllocateResponse* response);
  grpc::Status pre_start_container(const v1beta1::PreStartContainerRequest& request,
                                   v1beta1::PreStartContainerResponse* response);

  void run();
  // Runs `start_op` (starts one gRPC operation that completes on cq_) unless the queue is closing:
  // gRPC aborts on an operation started on a shut-down queue. False: not started.
  template <typename StartOp>
  bool start_operation(StartOp&& start_op);
  void wake_streams();
  v1beta1::ListAndWatchResponse device_list_locked() const;
  // A started stream joins streams_ and gets its first list, unless the service is shutting down
  // (nullopt: refuse it).
  std::optional<v1beta1::ListAndWatchResponse> stream_started(ListAndWatchCall* call);
  void stream_ended(ListAndWatchCall* call);

  const PluginSettings settings_;
  const Callbacks callbacks_;
  v1beta1::DevicePlugin::AsyncService async_;
  std::unique_ptr<grpc::ServerCompletionQueue> cq_;
  std::thread thread_;
  bool stopped_ = false;  // owner's thread only
  grpc::Alarm wake_alarm_;
  Tag wake_tag_{nullptr, Op::kWake};
  std::vector<ListAndWatchCall*> streams_;  // service thread only; alive until stream_ended
  std::atomic<std::size_t> open_streams_{0};

  mutable std::mutex mutex_;
  bool healthy_;                // guarded by mutex_
  bool shutting_down_ = false;  // guarded by mutex_
  bool queue_open_ = false;     // guarded by mutex_; operations may start on cq_
  bool wake_pending_ = false;   // guarded by mutex_; wake_alarm_ is set
};

}  // namespace epc::deviceplugin::kubelet
