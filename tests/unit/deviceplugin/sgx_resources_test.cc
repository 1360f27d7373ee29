#include "deviceplugin/sgx_resources.h"

#include <gtest/gtest.h>

namespace epc::deviceplugin {
namespace {

sgx::SgxInfo usable_node(bool provision) {
  sgx::SgxInfo info;
  info.sgx1 = true;
  info.flc = true;
  info.devices.enclave = true;
  info.devices.provision = provision;
  return info;
}

TEST(SgxResources, BothResourcesWithRootedHealthAndHostDevicePaths) {
  const auto plugins = sgx_plugin_settings("/fake/root", usable_node(true), SlotLimits{12, 3});
  ASSERT_EQ(plugins.size(), 2U);
  EXPECT_EQ(plugins[0].resource_name, "sgx.intel.com/enclave");
  EXPECT_EQ(plugins[0].socket_name, "sgx.intel.com-enclave.sock");
  EXPECT_EQ(plugins[0].slots, 12U);
  ASSERT_EQ(plugins[0].device_nodes.size(), 1U);
  // Containers get the node's real device path; health looks under the root.
  EXPECT_EQ(plugins[0].device_nodes[0].host_path, "/dev/sgx_enclave");
  EXPECT_EQ(plugins[0].device_nodes[0].container_path, "/dev/sgx_enclave");
  EXPECT_EQ(plugins[0].device_nodes[0].permissions, "rw");
  ASSERT_EQ(plugins[0].health_paths.size(), 1U);
  EXPECT_EQ(plugins[0].health_paths[0], "/fake/root/dev/sgx_enclave");
  EXPECT_EQ(plugins[1].resource_name, "sgx.intel.com/provision");
  EXPECT_EQ(plugins[1].slots, 3U);
  EXPECT_EQ(plugins[1].device_nodes[0].host_path, "/dev/sgx_provision");
  EXPECT_EQ(plugins[1].health_paths[0], "/fake/root/dev/sgx_provision");
}

TEST(SgxResources, NoProvisionDeviceNoProvisionResource) {
  const auto plugins = sgx_plugin_settings("/", usable_node(false), {});
  ASSERT_EQ(plugins.size(), 1U);
  EXPECT_EQ(plugins[0].health_paths[0], "/dev/sgx_enclave");
}

TEST(SgxResources, UnusableSgxAdvertisesNothing) {
  sgx::SgxInfo info = usable_node(true);
  info.devices.enclave = false;
  EXPECT_TRUE(sgx_plugin_settings("/", info, {}).empty());
  info = usable_node(true);
  info.sgx1 = false;
  EXPECT_TRUE(sgx_plugin_settings("/", info, {}).empty());
}

}  // namespace
}  // namespace epc::deviceplugin
