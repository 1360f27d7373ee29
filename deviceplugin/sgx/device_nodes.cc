#include "deviceplugin/sgx/device_nodes.h"

#include "deviceplugin/sgx/root_fs.h"

namespace epc::deviceplugin::sgx {

DeviceNodes find_device_nodes(std::string_view root) {
  DeviceNodes nodes;
  nodes.enclave = node_exists(rooted(root, kEnclaveDevicePath));
  nodes.provision = node_exists(rooted(root, kProvisionDevicePath));
  return nodes;
}

}  // namespace epc::deviceplugin::sgx
