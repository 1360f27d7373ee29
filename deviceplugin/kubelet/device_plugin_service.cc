#include "deviceplugin/kubelet/device_plugin_service.h"

#include <algorithm>
#include <utility>

#include "deviceplugin/kubelet/preferred_allocation.h"

namespace epc::deviceplugin::kubelet {

namespace {

grpc::ServerUnaryReactor* finish_unary(grpc::CallbackServerContext* context,
                                       const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}

// OK, or INVALID_ARGUMENT naming the first id that is not one of our slots.
template <typename Ids>
grpc::Status check_ids(const PluginSettings& settings, const Ids& ids) {
  for (const std::string& id : ids) {
    if (!device_index(settings, id)) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "unknown device id '" + id + "' for " + settings.resource_name};
    }
  }
  return grpc::Status::OK;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// One ListAndWatch stream.
//
// One write outstanding at a time. A list offered while a write is in flight replaces any list
// still waiting (every message is a full snapshot, so only the newest matters). gRPC operations
// start outside mutex_; Finish is the last thing a function does, and is only called with no
// write in flight, so a reactor whose write_in_flight_ is set stays alive until that write is done.
class DevicePluginService::ListAndWatchReactor final
    : public grpc::ServerWriteReactor<v1beta1::ListAndWatchResponse> {
 public:
  explicit ListAndWatchReactor(DevicePluginService& service) : service_(service) {}

  // Queues `list` as the next message. True: the caller must call start_write() (after releasing
  // its locks); the write is then reserved, so this reactor cannot finish before it completes.
  bool offer(v1beta1::ListAndWatchResponse list) {
    std::lock_guard lock(mutex_);
    if (finished_ || cancelled_) {
      return false;
    }
    if (write_in_flight_) {
      next_ = std::move(list);
      has_next_ = true;
      return false;
    }
    writing_ = std::move(list);
    write_in_flight_ = true;
    return true;
  }

  void start_write() { StartWrite(&writing_); }

  // Ends a stream that could not be started (service shutting down).
  void refuse() {
    {
      std::lock_guard lock(mutex_);
      finished_ = true;
    }
    Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "device plugin is shutting down"));
  }

  void OnWriteDone(bool ok) override {
    bool write = false;
    bool finish = false;
    {
      std::lock_guard lock(mutex_);
      write_in_flight_ = false;
      if (!ok) {
        cancelled_ = true;  // the stream is broken: kubelet went away or the call was cancelled
      }
      if (cancelled_) {
        finish = !finished_;
        finished_ = true;
      } else if (has_next_) {
        writing_ = std::move(next_);
        has_next_ = false;
        write_in_flight_ = true;
        write = true;
      }
    }
    if (write) {
      StartWrite(&writing_);
    }
    if (finish) {
      Finish(grpc::Status::CANCELLED);  // last: OnDone may run and delete this
    }
  }

  void OnCancel() override {
    bool finish = false;
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
      if (!write_in_flight_ && !finished_) {
        finished_ = true;
        finish = true;
      }
    }
    if (finish) {
      Finish(grpc::Status::CANCELLED);  // last: OnDone may run and delete this
    }
  }

  void OnDone() override {
    service_.stream_done(this);
    delete this;
  }

 private:
  DevicePluginService& service_;
  std::mutex mutex_;
  v1beta1::ListAndWatchResponse writing_;  // owned by gRPC while write_in_flight_
  v1beta1::ListAndWatchResponse next_;     // guarded by mutex_
  bool has_next_ = false;                  // guarded by mutex_
  bool write_in_flight_ = false;           // guarded by mutex_
  bool cancelled_ = false;                 // guarded by mutex_
  bool finished_ = false;                  // guarded by mutex_
};

// ---------------------------------------------------------------------------------------------
// The service.

DevicePluginService::DevicePluginService(PluginSettings settings, bool healthy, Callbacks callbacks)
    : settings_(std::move(settings)), callbacks_(std::move(callbacks)), healthy_(healthy) {}

DevicePluginService::~DevicePluginService() = default;

grpc::ServerUnaryReactor* DevicePluginService::GetDevicePluginOptions(
    grpc::CallbackServerContext* context, const v1beta1::Empty* /*request*/,
    v1beta1::DevicePluginOptions* response) {
  response->set_pre_start_required(settings_.options.pre_start_required);
  response->set_get_preferred_allocation_available(
      settings_.options.get_preferred_allocation_available);
  return finish_unary(context, grpc::Status::OK);
}

grpc::ServerWriteReactor<v1beta1::ListAndWatchResponse>* DevicePluginService::ListAndWatch(
    grpc::CallbackServerContext* /*context*/, const v1beta1::Empty* /*request*/) {
  auto* reactor = new ListAndWatchReactor(*this);
  bool write = false;
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) {
      write = false;
    } else {
      streams_.push_back(reactor);
      write = reactor->offer(device_list_locked());
    }
  }
  if (!write) {
    reactor->refuse();  // OnDone's stream_done finds it in no list: harmless
    return reactor;
  }
  if (callbacks_.stream_opened) {
    callbacks_.stream_opened();
  }
  reactor->start_write();
  return reactor;
}

grpc::ServerUnaryReactor* DevicePluginService::GetPreferredAllocation(
    grpc::CallbackServerContext* context, const v1beta1::PreferredAllocationRequest* request,
    v1beta1::PreferredAllocationResponse* response) {
  for (const auto& container : request->container_requests()) {
    const std::vector<std::string> available(container.available_deviceids().begin(),
                                             container.available_deviceids().end());
    const std::vector<std::string> must_include(container.must_include_deviceids().begin(),
                                                container.must_include_deviceids().end());
    auto* out = response->add_container_responses();
    for (std::string& id :
         preferred_allocation(available, must_include, container.allocation_size())) {
      out->add_deviceids(std::move(id));
    }
  }
  return finish_unary(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* DevicePluginService::Allocate(grpc::CallbackServerContext* context,
                                                        const v1beta1::AllocateRequest* request,
                                                        v1beta1::AllocateResponse* response) {
  for (const auto& container : request->container_requests()) {
    if (container.devices_ids().empty()) {
      return finish_unary(
          context, {grpc::StatusCode::INVALID_ARGUMENT,
                    "a container request without device ids for " + settings_.resource_name});
    }
    if (grpc::Status status = check_ids(settings_, container.devices_ids()); !status.ok()) {
      return finish_unary(context, status);
    }
  }
  if (!healthy()) {
    return finish_unary(context, {grpc::StatusCode::FAILED_PRECONDITION,
                                  settings_.resource_name +
                                      " slots are unhealthy: the SGX device node is missing"});
  }
  for (int i = 0; i < request->container_requests_size(); ++i) {
    auto* out = response->add_container_responses();
    for (const DeviceNode& node : settings_.device_nodes) {
      auto* spec = out->add_devices();
      spec->set_container_path(node.container_path);
      spec->set_host_path(node.host_path);
      spec->set_permissions(node.permissions);
    }
  }
  if (callbacks_.allocated) {
    for (const auto& container : request->container_requests()) {
      callbacks_.allocated(
          std::vector<std::string>(container.devices_ids().begin(), container.devices_ids().end()));
    }
  }
  return finish_unary(context, grpc::Status::OK);
}

grpc::ServerUnaryReactor* DevicePluginService::PreStartContainer(
    grpc::CallbackServerContext* context, const v1beta1::PreStartContainerRequest* request,
    v1beta1::PreStartContainerResponse* /*response*/) {
  return finish_unary(context, check_ids(settings_, request->devices_ids()));
}

void DevicePluginService::set_healthy(bool healthy) {
  std::vector<ListAndWatchReactor*> to_write;
  {
    std::lock_guard lock(mutex_);
    if (healthy_ == healthy) {
      return;
    }
    healthy_ = healthy;
    const v1beta1::ListAndWatchResponse list = device_list_locked();
    for (ListAndWatchReactor* reactor : streams_) {
      if (reactor->offer(list)) {
        to_write.push_back(reactor);
      }
    }
  }
  // Each of these has a write reserved: it stays alive until that write completes.
  for (ListAndWatchReactor* reactor : to_write) {
    reactor->start_write();
  }
}

bool DevicePluginService::healthy() const {
  std::lock_guard lock(mutex_);
  return healthy_;
}

void DevicePluginService::begin_shutdown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
}

void DevicePluginService::wait_idle() {
  std::unique_lock lock(mutex_);
  idle_cv_.wait(lock, [this] { return streams_.empty(); });
}

std::size_t DevicePluginService::open_streams() const {
  std::lock_guard lock(mutex_);
  return streams_.size();
}

v1beta1::ListAndWatchResponse DevicePluginService::device_list_locked() const {
  v1beta1::ListAndWatchResponse list;
  const std::string health(healthy_ ? kHealthy : kUnhealthy);
  list.mutable_devices()->Reserve(static_cast<int>(settings_.slots));
  for (std::uint32_t i = 0; i < settings_.slots; ++i) {
    auto* device = list.add_devices();
    device->set_id(device_id(settings_, i));
    device->set_health(health);
    // topology stays unset: slots have no NUMA affinity (spec §4.6).
  }
  return list;
}

void DevicePluginService::stream_done(ListAndWatchReactor* reactor) {
  // A copy: once this stream is off the list, wait_idle() may return and the service may be gone
  // before the callback runs.
  std::function<void()> closed;
  {
    std::lock_guard lock(mutex_);
    const auto it = std::find(streams_.begin(), streams_.end(), reactor);
    if (it == streams_.end()) {
      return;  // refused at start: never counted as open
    }
    streams_.erase(it);
    if (!shutting_down_) {
      closed = callbacks_.stream_closed;
    }
    if (streams_.empty()) {
      idle_cv_.notify_all();
    }
  }
  if (closed) {
    closed();
  }
}

}  // namespace epc::deviceplugin::kubelet
