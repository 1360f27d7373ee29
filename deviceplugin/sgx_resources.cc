#include "deviceplugin/sgx_resources.h"

#include "deviceplugin/sgx/device_nodes.h"
#include "deviceplugin/sgx/root_fs.h"

namespace epc::deviceplugin {

namespace {

kubelet::PluginSettings slot_resource(std::string_view root, std::string_view resource,
                                      std::string_view socket_name, std::string_view id_prefix,
                                      std::string_view device_path, std::uint32_t slots) {
  kubelet::PluginSettings settings;
  settings.resource_name = std::string(resource);
  settings.socket_name = std::string(socket_name);
  settings.device_id_prefix = std::string(id_prefix);
  settings.slots = slots;
  settings.device_nodes = {
      kubelet::DeviceNode{std::string(device_path), std::string(device_path), "rw"}};
  settings.health_paths = {sgx::rooted(root, device_path)};
  return settings;
}

}  // namespace

std::vector<kubelet::PluginSettings> sgx_plugin_settings(std::string_view root,
                                                         const sgx::SgxInfo& info,
                                                         SlotLimits limits) {
  std::vector<kubelet::PluginSettings> out;
  if (!info.usable()) {
    return out;
  }
  out.push_back(slot_resource(root, common::kEnclaveResource, "sgx.intel.com-enclave.sock",
                              "sgx-enclave-", sgx::kEnclaveDevicePath, limits.enclave));
  if (info.devices.provision) {
    out.push_back(slot_resource(root, common::kProvisionResource, "sgx.intel.com-provision.sock",
                                "sgx-provision-", sgx::kProvisionDevicePath, limits.provision));
  }
  return out;
}

}  // namespace epc::deviceplugin
