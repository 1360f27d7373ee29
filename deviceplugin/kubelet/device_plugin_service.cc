#include "deviceplugin/kubelet/device_plugin_service.h"

#include <algorithm>
#include <optional>
#include <utility>

#include <grpcpp/grpcpp.h>
#include <pthread.h>

#include "deviceplugin/kubelet/preferred_allocation.h"

namespace epc::deviceplugin::kubelet {

namespace {

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
// Calls. Each is a heap object that gRPC hands back through the tags of its operations; it lives
// on the service thread only and deletes itself once no operation of its is outstanding.

class DevicePluginService::Call {
 public:
  virtual ~Call() = default;
  // Once per completed operation of this call, on the service thread.
  virtual void completed(Op op, bool ok) = 0;
};

// One unary call: requested -> answered from memory -> finished.
template <typename Request, typename Response>
class DevicePluginService::UnaryCall final : public Call {
 public:
  using RequestMethod = void (v1beta1::DevicePlugin::AsyncService::*)(
      grpc::ServerContext*, Request*, grpc::ServerAsyncResponseWriter<Response>*,
      grpc::CompletionQueue*, grpc::ServerCompletionQueue*, void*);
  using Answer = grpc::Status (DevicePluginService::*)(const Request&, Response*);

  // Asks gRPC for the next call of this method.
  static void request(DevicePluginService& service, RequestMethod method, Answer answer) {
    auto* call = new UnaryCall(service, method, answer);
    if (!service.start_operation([&] {
          (service.async_.*method)(&call->context_, &call->request_, &call->responder_,
                                   service.cq_.get(), service.cq_.get(), &call->requested_);
        })) {
      delete call;
    }
  }

  void completed(Op op, bool ok) override {
    if (op == Op::kRequested && ok) {
      request(service_, method_, answer_);  // be ready for the next one
      const grpc::Status status = (service_.*answer_)(request_, &response_);
      if (service_.start_operation([&] { responder_.Finish(response_, status, &finished_); })) {
        return;
      }
    }
    // Finished; or no call came (the server is shutting down); or the queue is closing, in which
    // case dropping the context cancels the call.
    delete this;
  }

 private:
  UnaryCall(DevicePluginService& service, RequestMethod method, Answer answer)
      : service_(service), method_(method), answer_(answer) {}

  DevicePluginService& service_;
  const RequestMethod method_;
  const Answer answer_;
  grpc::ServerContext context_;
  Request request_;
  Response response_;
  grpc::ServerAsyncResponseWriter<Response> responder_{&context_};
  Tag requested_{this, Op::kRequested};
  Tag finished_{this, Op::kFinished};
};

// One ListAndWatch stream. Outstanding operations: the done notification (from the start of the
// call until it is over: cancelled by kubelet or by the server's shutdown), at most one write, and
// the finish of a refused stream. One write at a time; a list offered while a write is in flight
// replaces any list still waiting (every message is a full snapshot, so only the newest matters).
class DevicePluginService::ListAndWatchCall final : public Call {
 public:
  // Asks gRPC for the next stream.
  static void request(DevicePluginService& service) {
    auto* call = new ListAndWatchCall(service);
    // Before the request: gRPC arms the notification when a call arrives, and only then.
    call->context_.AsyncNotifyWhenDone(&call->done_);
    if (!service.start_operation([&] {
          service.async_.RequestListAndWatch(&call->context_, &call->request_, &call->writer_,
                                             service.cq_.get(), service.cq_.get(),
                                             &call->requested_);
        })) {
      delete call;
    }
  }

  void offer(v1beta1::ListAndWatchResponse list) {
    if (ended_) {
      return;
    }
    if (write_in_flight_) {
      next_ = std::move(list);
      has_next_ = true;
      return;
    }
    writing_ = std::move(list);
    write();
  }

  void completed(Op op, bool ok) override {
    switch (op) {
      case Op::kRequested:
        if (!ok) {
          delete this;  // no stream came: the server is shutting down (and no done notification)
          return;
        }
        request(service_);  // be ready for kubelet's next stream
        outstanding_ = 1;   // the done notification
        if (auto list = service_.stream_started(this)) {
          counted_ = true;
          offer(std::move(*list));
        } else {
          refuse();
        }
        break;
      case Op::kWritten:
        --outstanding_;
        write_in_flight_ = false;
        if (!ok) {
          ended_ = true;  // the stream is broken: kubelet went away or the call was cancelled
        } else if (has_next_ && !ended_) {
          writing_ = std::move(next_);
          has_next_ = false;
          write();
        }
        break;
      case Op::kFinished:
        --outstanding_;
        break;
      case Op::kDone:
        --outstanding_;
        ended_ = true;
        break;
      case Op::kWake:
        break;  // not a call's operation
    }
    if (outstanding_ == 0) {
      if (counted_) {
        service_.stream_ended(this);
      }
      delete this;
    }
  }

 private:
  explicit ListAndWatchCall(DevicePluginService& service) : service_(service) {}

  void write() {
    if (service_.start_operation([this] { writer_.Write(writing_, &written_); })) {
      write_in_flight_ = true;
      ++outstanding_;
    } else {
      ended_ = true;  // the queue is closing: the server is shutting down
    }
  }

  // A stream that arrived while the service shuts down: ended at once.
  void refuse() {
    ended_ = true;
    if (service_.start_operation([this] {
          writer_.Finish(
              grpc::Status(grpc::StatusCode::UNAVAILABLE, "device plugin is shutting down"),
              &finished_);
        })) {
      ++outstanding_;
    }
  }

  DevicePluginService& service_;
  grpc::ServerContext context_;
  v1beta1::Empty request_;
  grpc::ServerAsyncWriter<v1beta1::ListAndWatchResponse> writer_{&context_};
  Tag requested_{this, Op::kRequested};
  Tag written_{this, Op::kWritten};
  Tag finished_{this, Op::kFinished};
  Tag done_{this, Op::kDone};
  int outstanding_ = 0;
  bool counted_ = false;  // in the service's streams_
  bool ended_ = false;    // no more writes
  bool write_in_flight_ = false;
  v1beta1::ListAndWatchResponse writing_;  // owned by gRPC while write_in_flight_
  v1beta1::ListAndWatchResponse next_;
  bool has_next_ = false;
};

// ---------------------------------------------------------------------------------------------
// The service.

DevicePluginService::DevicePluginService(PluginSettings settings, bool healthy, Callbacks callbacks)
    : settings_(std::move(settings)), callbacks_(std::move(callbacks)), healthy_(healthy) {}

DevicePluginService::~DevicePluginService() { stop(); }

void DevicePluginService::attach(grpc::ServerBuilder& builder) {
  builder.RegisterService(&async_);
  cq_ = builder.AddCompletionQueue();
}

void DevicePluginService::start() {
  {
    std::lock_guard lock(mutex_);
    queue_open_ = true;
  }
  using Async = v1beta1::DevicePlugin::AsyncService;
  UnaryCall<v1beta1::Empty, v1beta1::DevicePluginOptions>::request(
      *this, &Async::RequestGetDevicePluginOptions, &DevicePluginService::get_options);
  UnaryCall<v1beta1::PreferredAllocationRequest, v1beta1::PreferredAllocationResponse>::request(
      *this, &Async::RequestGetPreferredAllocation, &DevicePluginService::get_preferred_allocation);
  UnaryCall<v1beta1::AllocateRequest, v1beta1::AllocateResponse>::request(
      *this, &Async::RequestAllocate, &DevicePluginService::allocate);
  UnaryCall<v1beta1::PreStartContainerRequest, v1beta1::PreStartContainerResponse>::request(
      *this, &Async::RequestPreStartContainer, &DevicePluginService::pre_start_container);
  ListAndWatchCall::request(*this);
  thread_ = std::thread([this] {
    ::pthread_setname_np(::pthread_self(), "epc-dp-serve");  // for ps/top and leak checks
    run();
  });
}

void DevicePluginService::begin_shutdown() {
  std::lock_guard lock(mutex_);
  shutting_down_ = true;
}

void DevicePluginService::stop() {
  if (stopped_ || cq_ == nullptr) {
    return;
  }
  stopped_ = true;
  {
    std::lock_guard lock(mutex_);
    shutting_down_ = true;
    queue_open_ = false;
  }
  // Next() returns false only once every operation started on the queue has come back, so when
  // the thread ends, every call has been deleted.
  cq_->Shutdown();
  if (thread_.joinable()) {
    thread_.join();
  } else {
    run();  // never started (the server did not build): drain here
  }
}

void DevicePluginService::run() {
  void* tag = nullptr;
  bool ok = false;
  while (cq_->Next(&tag, &ok)) {
    const Tag& completed = *static_cast<Tag*>(tag);
    if (completed.call == nullptr) {
      wake_streams();
    } else {
      completed.call->completed(completed.op, ok);
    }
  }
}

template <typename StartOp>
bool DevicePluginService::start_operation(StartOp&& start_op) {
  std::lock_guard lock(mutex_);
  if (!queue_open_) {
    return false;
  }
  start_op();
  return true;
}

void DevicePluginService::set_healthy(bool healthy) {
  std::lock_guard lock(mutex_);
  if (healthy_ == healthy) {
    return;
  }
  healthy_ = healthy;
  // The streams are the service thread's: wake it (an alarm due now completes at once).
  if (queue_open_ && !shutting_down_ && !wake_pending_) {
    wake_pending_ = true;
    wake_alarm_.Set(cq_.get(), gpr_now(GPR_CLOCK_MONOTONIC), &wake_tag_);
  }
}

bool DevicePluginService::healthy() const {
  std::lock_guard lock(mutex_);
  return healthy_;
}

void DevicePluginService::wake_streams() {
  v1beta1::ListAndWatchResponse list;
  {
    std::lock_guard lock(mutex_);
    wake_pending_ = false;
    list = device_list_locked();
  }
  for (ListAndWatchCall* stream : streams_) {
    stream->offer(list);
  }
}

std::optional<v1beta1::ListAndWatchResponse> DevicePluginService::stream_started(
    ListAndWatchCall* call) {
  std::optional<v1beta1::ListAndWatchResponse> list;
  {
    std::lock_guard lock(mutex_);
    if (shutting_down_) {
      return std::nullopt;
    }
    list = device_list_locked();
  }
  streams_.push_back(call);
  open_streams_.fetch_add(1);
  if (callbacks_.stream_opened) {
    callbacks_.stream_opened();
  }
  return list;
}

void DevicePluginService::stream_ended(ListAndWatchCall* call) {
  streams_.erase(std::find(streams_.begin(), streams_.end(), call));
  open_streams_.fetch_sub(1);
  bool shutting_down = false;
  {
    std::lock_guard lock(mutex_);
    shutting_down = shutting_down_;
  }
  if (!shutting_down && callbacks_.stream_closed) {
    callbacks_.stream_closed();
  }
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

// ---------------------------------------------------------------------------------------------
// The answers.

grpc::Status DevicePluginService::get_options(const v1beta1::Empty& /*request*/,
                                              v1beta1::DevicePluginOptions* response) {
  response->set_pre_start_required(settings_.options.pre_start_required);
  response->set_get_preferred_allocation_available(
      settings_.options.get_preferred_allocation_available);
  return grpc::Status::OK;
}

grpc::Status DevicePluginService::get_preferred_allocation(
    const v1beta1::PreferredAllocationRequest& request,
    v1beta1::PreferredAllocationResponse* response) {
  for (const auto& container : request.container_requests()) {
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
  return grpc::Status::OK;
}

grpc::Status DevicePluginService::allocate(const v1beta1::AllocateRequest& request,
                                           v1beta1::AllocateResponse* response) {
  grpc::Status status = allocate_slots(request, response);
  if (callbacks_.allocate_done) {
    callbacks_.allocate_done(status.ok());
  }
  return status;
}

grpc::Status DevicePluginService::allocate_slots(const v1beta1::AllocateRequest& request,
                                                 v1beta1::AllocateResponse* response) {
  for (const auto& container : request.container_requests()) {
    if (container.devices_ids().empty()) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "a container request without device ids for " + settings_.resource_name};
    }
    if (grpc::Status status = check_ids(settings_, container.devices_ids()); !status.ok()) {
      return status;
    }
  }
  if (!healthy()) {
    return {grpc::StatusCode::FAILED_PRECONDITION,
            settings_.resource_name + " slots are unhealthy: the SGX device node is missing"};
  }
  for (int i = 0; i < request.container_requests_size(); ++i) {
    auto* out = response->add_container_responses();
    for (const DeviceNode& node : settings_.device_nodes) {
      auto* spec = out->add_devices();
      spec->set_container_path(node.container_path);
      spec->set_host_path(node.host_path);
      spec->set_permissions(node.permissions);
    }
  }
  if (callbacks_.allocated) {
    for (const auto& container : request.container_requests()) {
      callbacks_.allocated(
          std::vector<std::string>(container.devices_ids().begin(), container.devices_ids().end()));
    }
  }
  return grpc::Status::OK;
}

grpc::Status DevicePluginService::pre_start_container(
    const v1beta1::PreStartContainerRequest& request,
    v1beta1::PreStartContainerResponse* /*response*/) {
  return check_ids(settings_, request.devices_ids());
}

}  // namespace epc::deviceplugin::kubelet
