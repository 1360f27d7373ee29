#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "deviceplugin/kubelet/registration_client.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace epc::deviceplugin::kubelet {

// Registration over gRPC to kubelet's socket (<device-plugin-dir>/kubelet.sock).
//
// Every call uses a fresh channel with its own subchannel pool: after a kubelet restart the socket
// is a new file, and a channel that failed before would otherwise wait out gRPC's reconnect
// backoff (1 s and more) instead of dialling now. Calls fail fast when kubelet is not there; the
// caller owns the retry policy.
class RegistrationClientImpl final : public RegistrationClient {
 public:
  // `timeout` bounds one Register call, including kubelet's dial-back to the plugin.
  RegistrationClientImpl(std::string kubelet_socket_path, std::chrono::milliseconds timeout);

  // RegistrationClient
  common::Result<std::monostate> register_plugin(const RegistrationRequest& request) override;
  void cancel() override;

 private:
  const std::string kubelet_socket_path_;
  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;
  grpc::ClientContext* active_ = nullptr;  // guarded by mutex_
  bool cancelled_ = false;                 // guarded by mutex_
};

}  // namespace epc::deviceplugin::kubelet
