#pragma once

#include <string>
#include <variant>

#include "common/result.h"
#include "deviceplugin/kubelet/plugin_settings.h"

namespace epc::deviceplugin::kubelet {

// What a plugin sends to kubelet's Registration service (RegisterRequest, spec §4.3).
struct RegistrationRequest {
  std::string version{kApiVersion};
  std::string endpoint;  // socket file name in the device-plugin dir
  std::string resource_name;
  PluginOptions options;  // also answered by GetDevicePluginOptions: keep both the same
};

// Registers a device plugin with kubelet. An interface because it is a process edge: the real one
// (RegistrationClientImpl) speaks gRPC to kubelet.sock; tests may use a fake.
//
// Thread-safety: register_plugin() from one thread at a time; cancel() from any thread.
class RegistrationClient {
 public:
  virtual ~RegistrationClient() = default;

  // Blocks until kubelet accepted or refused the registration, or a timeout. Kubelet dials the
  // plugin back and calls GetDevicePluginOptions inside this call (k8s >= 1.25), so the plugin
  // must already be serving. Refusal or failure -> Error with kubelet's (or gRPC's) words.
  virtual common::Result<std::monostate> register_plugin(const RegistrationRequest& request) = 0;

  // Makes a blocked register_plugin() return soon with an Error (shutdown).
  virtual void cancel() = 0;
};

}  // namespace epc::deviceplugin::kubelet
