#include "deviceplugin/kubelet/registration_client_impl.h"

#include <utility>

#include <grpcpp/grpcpp.h>

#include "deviceplugin/v1beta1/api.grpc.pb.h"

namespace epc::deviceplugin::kubelet {

RegistrationClientImpl::RegistrationClientImpl(std::string kubelet_socket_path,
                                               std::chrono::milliseconds timeout)
    : kubelet_socket_path_(std::move(kubelet_socket_path)), timeout_(timeout) {}

common::Result<std::monostate> RegistrationClientImpl::register_plugin(
    const RegistrationRequest& request) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel("unix://" + kubelet_socket_path_,
                                           grpc::InsecureChannelCredentials(), args);
  auto stub = v1beta1::Registration::NewStub(channel);

  v1beta1::RegisterRequest message;
  message.set_version(request.version);
  message.set_endpoint(request.endpoint);
  message.set_resource_name(request.resource_name);
  message.mutable_options()->set_pre_start_required(request.options.pre_start_required);
  message.mutable_options()->set_get_preferred_allocation_available(
      request.options.get_preferred_allocation_available);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  {
    std::lock_guard lock(mutex_);
    if (cancelled_) {
      return common::Error{"registration cancelled"};
    }
    active_ = &context;
  }
  v1beta1::Empty reply;
  const grpc::Status status = stub->Register(&context, message, &reply);
  {
    std::lock_guard lock(mutex_);
    active_ = nullptr;
  }
  if (!status.ok()) {
    return common::Error{"Register " + request.resource_name + " at " + kubelet_socket_path_ +
                         ": " + status.error_message() + " (gRPC code " +
                         std::to_string(static_cast<int>(status.error_code())) + ")"};
  }
  return std::monostate{};
}

void RegistrationClientImpl::cancel() {
  std::lock_guard lock(mutex_);
  cancelled_ = true;
  if (active_ != nullptr) {
    active_->TryCancel();
  }
}

}  // namespace epc::deviceplugin::kubelet
