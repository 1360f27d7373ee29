#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/result.h"

namespace epc::deviceplugin::kubelet {

// Constants of the kubelet device plugin API (../shared/spec/deviceplugin-api.md §1).
inline constexpr std::string_view kApiVersion = "v1beta1";
inline constexpr std::string_view kDefaultDevicePluginDir = "/var/lib/kubelet/device-plugins";
inline constexpr std::string_view kKubeletSocketName = "kubelet.sock";
inline constexpr std::string_view kHealthy = "Healthy";
inline constexpr std::string_view kUnhealthy = "Unhealthy";

// Slots per resource unless configured: kubelet's default maxPods, so a node never runs out of
// slots before it runs out of pods.
inline constexpr std::uint32_t kDefaultSlots = 110;
// Upper bound on slots: every ListAndWatchResponse carries all of them and kubelet accepts at most
// 4 MiB per message (spec §2); 10,000 devices of ~35 bytes stay far below that.
inline constexpr std::uint32_t kMaxSlots = 10000;
// Kubelet refuses device ids longer than this (spec §4.5).
inline constexpr std::size_t kMaxDeviceIdChars = 63;
// sun_path is 108 bytes including the terminating NUL.
inline constexpr std::size_t kMaxSocketPathChars = 107;

// A device node handed to a container by Allocate (DeviceSpec).
struct DeviceNode {
  std::string container_path;
  std::string host_path;
  std::string permissions = "rw";  // cgroup device permissions: r, w, m
};

// What the plugin tells kubelet about its optional RPCs (DevicePluginOptions).
struct PluginOptions {
  bool pre_start_required = false;
  bool get_preferred_allocation_available = false;
};

// One extended resource served by one plugin socket: N interchangeable slot devices that all
// give the same device nodes to the containers that get them.
struct PluginSettings {
  std::string resource_name;  // e.g. "sgx.intel.com/enclave"
  std::string socket_name;  // basename in the device-plugin dir, e.g. "sgx.intel.com-enclave.sock"
  std::string device_id_prefix;  // slot ids are prefix + index: "sgx-enclave-0" ...
  std::uint32_t slots = kDefaultSlots;
  std::vector<DeviceNode> device_nodes;  // DeviceSpecs of every allocating container
  // Paths (already rooted) that must all exist for the slots to be Healthy: the device nodes as
  // this process sees them.
  std::vector<std::string> health_paths;
  PluginOptions options;
};

// The id of slot `index`: prefix + decimal index.
std::string device_id(const PluginSettings& settings, std::uint32_t index);

// The slot index of `id`, or nullopt when `id` is not one of this resource's slots (other prefix,
// not a canonical decimal, index >= slots).
std::optional<std::uint32_t> device_index(const PluginSettings& settings, std::string_view id);

// Checks what kubelet would refuse or what would break the plugin: an extended resource name
// (domain/name, not kubernetes.io/), a bare socket basename, 1..kMaxSlots slots, ids within
// kMaxDeviceIdChars, at least one device node, and the socket path within sun_path.
common::Result<std::monostate> validate(const PluginSettings& settings,
                                        std::string_view device_plugin_dir);

// dir + "/" + name, without doubling a trailing slash.
std::string join_path(std::string_view dir, std::string_view name);

}  // namespace epc::deviceplugin::kubelet
