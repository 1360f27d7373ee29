#include "deviceplugin/kubelet/pod_resources_client_impl.h"

#include <algorithm>
#include <set>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "podresources/v1/api.grpc.pb.h"

namespace epc::deviceplugin::kubelet {

PodResourcesClientImpl::PodResourcesClientImpl(std::string socket_path,
                                               std::chrono::milliseconds timeout)
    : socket_path_(std::move(socket_path)), timeout_(timeout) {}

common::Result<std::vector<PodDeviceUse>> PodResourcesClientImpl::list(
    const std::vector<std::string>& resources) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(kMaxReplyBytes);
  auto channel =
      grpc::CreateCustomChannel("unix://" + socket_path_, grpc::InsecureChannelCredentials(), args);
  auto stub = v1::PodResourcesLister::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + timeout_);
  v1::ListPodResourcesResponse reply;
  const grpc::Status status = stub->List(&context, v1::ListPodResourcesRequest(), &reply);
  if (!status.ok()) {
    return common::Error{"PodResources List at " + socket_path_ + ": " + status.error_message() +
                         " (gRPC code " + std::to_string(static_cast<int>(status.error_code())) +
                         ")"};
  }
  std::vector<PodDeviceUse> out;
  for (const auto& pod : reply.pod_resources()) {
    std::map<std::string, std::set<std::string>> ids;
    for (const auto& container : pod.containers()) {
      for (const auto& devices : container.devices()) {
        if (std::find(resources.begin(), resources.end(), devices.resource_name()) ==
            resources.end()) {
          continue;
        }
        auto& set = ids[devices.resource_name()];
        set.insert(devices.device_ids().begin(), devices.device_ids().end());
      }
    }
    if (ids.empty()) {
      continue;
    }
    PodDeviceUse use;
    use.pod_namespace = pod.namespace_();
    use.pod_name = pod.name();
    for (const auto& [resource, set] : ids) {
      use.devices[resource] = static_cast<std::uint32_t>(set.size());
    }
    out.push_back(std::move(use));
  }
  return out;
}

}  // namespace epc::deviceplugin::kubelet
