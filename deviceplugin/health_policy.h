#pragma once

#include <functional>
#include <string>
#include <vector>

#include "deviceplugin/kubelet/plugin_supervisor.h"
#include "deviceplugin/status_server.h"

namespace epc::deviceplugin {

// The plugin's /healthz policy: healthy while every resource is served and registered with kubelet
// (kubelet offers the resources only then). Unhealthy, first match wins:
//   - kubelet's socket is missing: kubelet is not running (restarting), and the supervisor's view
//     lags until the new kubelet is back, so the socket is checked first;
//   - a resource is not served, or served but not registered; its last error is appended.
// A node that serves nothing (no usable SGX) has nothing to register and is healthy: see
// make_health_check.
HealthVerdict plugin_health(bool kubelet_socket_present, const std::string& kubelet_socket,
                            const std::vector<kubelet::PluginSupervisor::PluginStatus>& statuses);

// The check StatusServer calls: plugin_health over `supervisor`'s status and the presence of
// `kubelet_socket` now. `supervisor` null (nothing served) is always healthy; otherwise it must
// outlive the returned function.
std::function<HealthVerdict()> make_health_check(const kubelet::PluginSupervisor* supervisor,
                                                 std::string kubelet_socket);

}  // namespace epc::deviceplugin
