#include "deviceplugin/health_policy.h"

#include <utility>

#include <unistd.h>

namespace epc::deviceplugin {

HealthVerdict plugin_health(bool kubelet_socket_present, const std::string& kubelet_socket,
                            const std::vector<kubelet::PluginSupervisor::PluginStatus>& statuses) {
  if (!kubelet_socket_present) {
    return {false, kubelet_socket + " missing: kubelet not running"};
  }
  for (const auto& status : statuses) {
    if (!status.serving || !status.registered) {
      return {false, status.resource_name + " not " +
                         (status.serving ? "registered with kubelet" : "served") +
                         (status.last_error.empty() ? "" : ": " + status.last_error)};
    }
  }
  return {true, ""};
}

std::function<HealthVerdict()> make_health_check(const kubelet::PluginSupervisor* supervisor,
                                                 std::string kubelet_socket) {
  return [supervisor, kubelet_socket = std::move(kubelet_socket)]() -> HealthVerdict {
    if (supervisor == nullptr) {
      return {true, ""};
    }
    return plugin_health(::access(kubelet_socket.c_str(), F_OK) == 0, kubelet_socket,
                         supervisor->status());
  };
}

}  // namespace epc::deviceplugin
