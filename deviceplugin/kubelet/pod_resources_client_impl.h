#pragma once

#include <chrono>
#include <string>

#include "deviceplugin/kubelet/pod_resources_client.h"

namespace epc::deviceplugin::kubelet {

// PodResources v1 over gRPC on kubelet's unix socket. Each call dials afresh (kubelet restarts
// replace the socket; calls are rare) and accepts replies up to kMaxReplyBytes.
class PodResourcesClientImpl final : public PodResourcesClient {
 public:
  // Large nodes list many pods; Kubernetes' own tooling allows 16 MiB.
  static constexpr int kMaxReplyBytes = 16 * 1024 * 1024;

  PodResourcesClientImpl(std::string socket_path, std::chrono::milliseconds timeout);

  // PodResourcesClient
  common::Result<std::vector<PodDeviceUse>> list(
      const std::vector<std::string>& resources) override;

 private:
  const std::string socket_path_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace epc::deviceplugin::kubelet
