#include "deviceplugin/kubelet/plugin_settings.h"

namespace epc::deviceplugin::kubelet {

std::string device_id(const PluginSettings& settings, std::uint32_t index) {
  return settings.device_id_prefix + std::to_string(index);
}

std::optional<std::uint32_t> device_index(const PluginSettings& settings, std::string_view id) {
  if (!id.starts_with(settings.device_id_prefix)) {
    return std::nullopt;
  }
  const std::string_view digits = id.substr(settings.device_id_prefix.size());
  // Canonical decimal only ("07" is not slot 7): ids must round-trip through device_id().
  if (digits.empty() || digits.size() > 10 || (digits.size() > 1 && digits.front() == '0')) {
    return std::nullopt;
  }
  std::uint64_t index = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    index = index * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (index >= settings.slots) {
    return std::nullopt;
  }
  return static_cast<std::uint32_t>(index);
}

common::Result<std::monostate> validate(const PluginSettings& settings,
                                        std::string_view device_plugin_dir) {
  const std::string& name = settings.resource_name;
  const std::size_t slash = name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == name.size()) {
    return common::Error{"resource name '" + name + "' is not an extended resource (domain/name)"};
  }
  if (name.starts_with("kubernetes.io/") || name.starts_with("requests.")) {
    return common::Error{"resource name '" + name + "' is reserved by Kubernetes"};
  }
  if (settings.socket_name.empty() || settings.socket_name.find('/') != std::string::npos ||
      settings.socket_name == "." || settings.socket_name == ".." ||
      settings.socket_name == kKubeletSocketName) {
    return common::Error{"socket name '" + settings.socket_name +
                         "' must be a plain file name other than kubelet.sock"};
  }
  if (settings.slots == 0 || settings.slots > kMaxSlots) {
    return common::Error{name + ": slot count " + std::to_string(settings.slots) +
                         " is outside 1.." + std::to_string(kMaxSlots)};
  }
  if (device_id(settings, settings.slots - 1).size() > kMaxDeviceIdChars) {
    return common::Error{name + ": device ids longer than " + std::to_string(kMaxDeviceIdChars) +
                         " characters"};
  }
  if (settings.device_nodes.empty()) {
    return common::Error{name + ": no device node to hand to containers"};
  }
  const std::string socket_path = join_path(device_plugin_dir, settings.socket_name);
  if (socket_path.size() > kMaxSocketPathChars) {
    return common::Error{"socket path '" + socket_path + "' is longer than " +
                         std::to_string(kMaxSocketPathChars) + " characters"};
  }
  return std::monostate{};
}

std::string join_path(std::string_view dir, std::string_view name) {
  std::string out(dir);
  if (out.empty() || out.back() != '/') {
    out.push_back('/');
  }
  out.append(name);
  return out;
}

}  // namespace epc::deviceplugin::kubelet
