#include "deviceplugin/kubelet/plugin_settings.h"

#include <gtest/gtest.h>

namespace epc::deviceplugin::kubelet {
namespace {

PluginSettings enclave(std::uint32_t slots = 110) {
  PluginSettings s;
  s.resource_name = "sgx.intel.com/enclave";
  s.socket_name = "sgx.intel.com-enclave.sock";
  s.device_id_prefix = "sgx-enclave-";
  s.slots = slots;
  s.device_nodes = {{"/dev/sgx_enclave", "/dev/sgx_enclave", "rw"}};
  return s;
}

TEST(DeviceIds, RoundTrip) {
  const PluginSettings s = enclave(110);
  EXPECT_EQ(device_id(s, 0), "sgx-enclave-0");
  EXPECT_EQ(device_id(s, 109), "sgx-enclave-109");
  EXPECT_EQ(device_index(s, "sgx-enclave-0"), 0U);
  EXPECT_EQ(device_index(s, "sgx-enclave-109"), 109U);
}

TEST(DeviceIds, RejectsForeignAndOutOfRangeIds) {
  const PluginSettings s = enclave(110);
  EXPECT_FALSE(device_index(s, "sgx-enclave-110"));  // == slots
  EXPECT_FALSE(device_index(s, "sgx-enclave-"));
  EXPECT_FALSE(device_index(s, "sgx-enclave-07"));  // not canonical
  EXPECT_FALSE(device_index(s, "sgx-enclave-1a"));
  EXPECT_FALSE(device_index(s, "sgx-provision-1"));
  EXPECT_FALSE(device_index(s, "sgx-enclave-99999999999"));
  EXPECT_FALSE(device_index(s, ""));
}

TEST(Validate, AcceptsTheSgxResources) {
  EXPECT_TRUE(validate(enclave(), "/var/lib/kubelet/device-plugins").ok());
  EXPECT_TRUE(validate(enclave(kMaxSlots), "/var/lib/kubelet/device-plugins/").ok());
}

TEST(Validate, RefusesWhatKubeletOrTheSocketWouldRefuse) {
  const std::string dir = "/var/lib/kubelet/device-plugins";
  PluginSettings s = enclave();
  s.resource_name = "enclave";
  EXPECT_FALSE(validate(s, dir).ok());
  s = enclave();
  s.resource_name = "kubernetes.io/enclave";
  EXPECT_FALSE(validate(s, dir).ok());
  s = enclave();
  s.socket_name = "sub/dir.sock";
  EXPECT_FALSE(validate(s, dir).ok());
  s = enclave();
  s.socket_name = "kubelet.sock";
  EXPECT_FALSE(validate(s, dir).ok());
  EXPECT_FALSE(validate(enclave(0), dir).ok());
  EXPECT_FALSE(validate(enclave(kMaxSlots + 1), dir).ok());
  s = enclave();
  s.device_nodes.clear();
  EXPECT_FALSE(validate(s, dir).ok());
  s = enclave();
  s.device_id_prefix = std::string(60, 'x');
  EXPECT_TRUE(validate(s, dir).ok());  // 60 + "109" = 63 characters: the limit
  s.device_id_prefix = std::string(61, 'x');
  EXPECT_FALSE(validate(s, dir).ok());  // 61 + "109" = 64 characters
  EXPECT_FALSE(validate(enclave(), "/" + std::string(100, 'd')).ok());  // sun_path overflow
}

TEST(JoinPath, OneSlash) {
  EXPECT_EQ(join_path("/a/b", "c.sock"), "/a/b/c.sock");
  EXPECT_EQ(join_path("/a/b/", "c.sock"), "/a/b/c.sock");
}

}  // namespace
}  // namespace epc::deviceplugin::kubelet
