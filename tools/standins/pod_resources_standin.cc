#include "tools/standins/pod_resources_standin.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include "podresources/v1/api.grpc.pb.h"

namespace epc::tools::standins {

struct PodResourcesStandin::State {
  mutable std::mutex mutex;
  std::vector<ListedPod> pods;                                  // guarded by mutex
  std::map<std::string, std::vector<std::string>> allocatable;  // guarded by mutex
  std::size_t list_calls = 0;                                   // guarded by mutex
};

class PodResourcesStandin::Service final : public v1::PodResourcesLister::Service {
 public:
  explicit Service(State& state) : state_(state) {}

  grpc::Status List(grpc::ServerContext* /*context*/,
                    const v1::ListPodResourcesRequest* /*request*/,
                    v1::ListPodResourcesResponse* response) override {
    std::lock_guard lock(state_.mutex);
    ++state_.list_calls;
    for (const ListedPod& pod : state_.pods) {
      fill(pod, response->add_pod_resources());
    }
    return grpc::Status::OK;
  }

  grpc::Status GetAllocatableResources(grpc::ServerContext* /*context*/,
                                       const v1::AllocatableResourcesRequest* /*request*/,
                                       v1::AllocatableResourcesResponse* response) override {
    std::lock_guard lock(state_.mutex);
    for (const auto& [resource, ids] : state_.allocatable) {
      auto* devices = response->add_devices();
      devices->set_resource_name(resource);
      for (const auto& id : ids) {
        devices->add_device_ids(id);
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status Get(grpc::ServerContext* /*context*/, const v1::GetPodResourcesRequest* request,
                   v1::GetPodResourcesResponse* response) override {
    std::lock_guard lock(state_.mutex);
    for (const ListedPod& pod : state_.pods) {
      if (pod.name == request->pod_name() && pod.namespace_name == request->pod_namespace()) {
        fill(pod, response->mutable_pod_resources());
        return grpc::Status::OK;
      }
    }
    return {grpc::StatusCode::NOT_FOUND,
            "pod " + request->pod_namespace() + "/" + request->pod_name() + " not found"};
  }

 private:
  static void fill(const ListedPod& pod, v1::PodResources* out) {
    out->set_name(pod.name);
    out->set_namespace_(pod.namespace_name);
    for (const auto& container : pod.containers) {
      auto* c = out->add_containers();
      c->set_name(container.name);
      for (const auto& [resource, ids] : container.devices) {
        auto* devices = c->add_devices();
        devices->set_resource_name(resource);
        for (const auto& id : ids) {
          devices->add_device_ids(id);
        }
      }
    }
  }

  State& state_;
};

PodResourcesStandin::PodResourcesStandin(std::string socket_path)
    : socket_path_(std::move(socket_path)), state_(std::make_unique<State>()) {}

PodResourcesStandin::~PodResourcesStandin() { stop(); }

common::Result<std::monostate> PodResourcesStandin::start() {
  std::lock_guard lock(server_mutex_);
  if (server_ != nullptr) {
    return std::monostate{};
  }
  service_ = std::make_unique<Service>(*state_);
  grpc::ServerBuilder builder;
  builder.AddListeningPort("unix:" + socket_path_, grpc::InsecureServerCredentials());
  builder.RegisterService(service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr) {
    service_.reset();
    return common::Error{"PodResources stand-in cannot listen on " + socket_path_};
  }
  return std::monostate{};
}

void PodResourcesStandin::stop() {
  std::lock_guard lock(server_mutex_);
  if (server_ == nullptr) {
    return;
  }
  server_->Shutdown(std::chrono::system_clock::now());
  server_->Wait();
  server_.reset();
  service_.reset();
  ::unlink(socket_path_.c_str());
}

void PodResourcesStandin::set_pods(std::vector<ListedPod> pods) {
  std::lock_guard lock(state_->mutex);
  state_->pods = std::move(pods);
}

void PodResourcesStandin::set_allocatable(const std::string& resource,
                                          std::vector<std::string> ids) {
  std::lock_guard lock(state_->mutex);
  state_->allocatable[resource] = std::move(ids);
}

std::size_t PodResourcesStandin::list_calls() const {
  std::lock_guard lock(state_->mutex);
  return state_->list_calls;
}

}  // namespace epc::tools::standins
