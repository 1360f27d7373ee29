#include "deviceplugin/plugin_config.h"

#include <charconv>
#include <optional>
#include <string_view>
#include <variant>

#include <yaml-cpp/yaml.h>

namespace epc::deviceplugin {

namespace {

std::optional<std::uint64_t> to_u64(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return std::nullopt;
  }
  return value;
}

common::Result<std::uint32_t> slot_limit(const std::string& flag, const std::string& value) {
  const auto n = to_u64(value);
  if (!n || *n == 0 || *n > kubelet::kMaxSlots) {
    return common::Error{flag + ": expected a slot count from 1 to " +
                       std::to_string(kubelet::kMaxSlots) + ", got '" + value + "'"};
  }
  return static_cast<std::uint32_t>(*n);
}

common::Result<std::chrono::milliseconds> millis(const std::string& flag, const std::string& value) {
  const auto n = to_u64(value);
  // Capped at one hour: a longer interval is a typo, not a setting.
  if (!n || *n == 0 || *n > 3'600'000) {
    return common::Error{flag + ": expected milliseconds from 1 to 3600000, got '" + value + "'"};
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(*n));
}

bool valid_host_port(const std::string& value) {
  const auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return false;
  }
  const auto port = to_u64(std::string_view(value).substr(colon + 1));
  return port && *port > 0 && *port <= 65535;
}

// The YAML file as "--key=value" arguments, in file order.
common::Result<std::vector<std::string>> config_file_args(const std::string& path) {
  std::vector<std::string> out;
  try {
    const YAML::Node root = YAML::LoadFile(path);
    if (root.IsNull()) {
      return out;  // an empty file: nothing to set
    }
    if (!root.IsMap()) {
      return common::Error{"config " + path + ": expected a map of flag names to values"};
    }
    for (const auto& entry : root) {
      const std::string key = entry.first.as<std::string>();
      if (!entry.second.IsScalar()) {
        return common::Error{"config " + path + ": '" + key + "' must be a single value"};
      }
      if (key == "config" || key == "help") {
        return common::Error{"config " + path + ": '" + key + "' is a command-line flag only"};
      }
      out.push_back("--" + key + "=" + entry.second.as<std::string>());
    }
  } catch (const YAML::Exception& e) {
    return common::Error{"config " + path + ": " + e.what()};
  }
  return out;
}

common::Result<std::monostate> apply_flags(const std::vector<std::string>& args,
                                         PluginConfig& config) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string flag = args[i];
    std::optional<std::string> value;
    if (const auto eq = flag.find('='); flag.starts_with("--") && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag.resize(eq);
    }
    if (flag == "--help" || flag == "-h") {
      config.help_requested = true;
      continue;
    }
    if (!value) {
      if (i + 1 >= args.size()) {
        return common::Error{flag + ": missing value"};
      }
      value = args[++i];
    }
    if (flag == "--root") {
      config.root = *value;
    } else if (flag == "--kubelet-dir") {
      config.kubelet_dir = *value;
    } else if (flag == "--enclave-limit") {
      auto n = slot_limit(flag, *value);
      if (!n.ok()) {
        return n.error();
      }
      config.enclave_limit = *n;
    } else if (flag == "--provision-limit") {
      auto n = slot_limit(flag, *value);
      if (!n.ok()) {
        return n.error();
      }
      config.provision_limit = *n;
    } else if (flag == "--node-name") {
      config.node_name = *value;
    } else if (flag == "--extender") {
      if (!valid_host_port(*value)) {
        return common::Error{"--extender: expected host:port, got '" + *value + "'"};
      }
      config.extender = *value;
    } else if (flag == "--pod-resources-socket") {
      config.pod_resources_socket = *value;
    } else if (flag == "--heartbeat-ms") {
      auto ms = millis(flag, *value);
      if (!ms.ok()) {
        return ms.error();
      }
      config.heartbeat = *ms;
    } else if (flag == "--holders-period-ms") {
      auto ms = millis(flag, *value);
      if (!ms.ok()) {
        return ms.error();
      }
      config.holders_period = *ms;
    } else if (flag == "--check-interval-ms") {
      auto ms = millis(flag, *value);
      if (!ms.ok()) {
        return ms.error();
      }
      config.check_interval = *ms;
    } else if (flag == "--register-timeout-ms") {
      auto ms = millis(flag, *value);
      if (!ms.ok()) {
        return ms.error();
      }
      config.register_timeout = *ms;
    } else if (flag == "--healthz-address") {
      if (!valid_host_port(*value) && !value->ends_with(":0")) {
        return common::Error{"--healthz-address: expected host:port, got '" + *value + "'"};
      }
      config.healthz_address = *value;
    } else if (flag == "--config") {
      config.config_file = *value;  // read by parse_plugin_flags before the other flags
    } else {
      return common::Error{"unknown flag '" + flag + "'"};
    }
  }
  return std::monostate{};
}

}  // namespace

common::Result<PluginConfig> parse_plugin_flags(const std::vector<std::string>& args) {
  PluginConfig config;
  // Flags first, only to learn --config; then the file; then the flags again over it.
  if (auto first = apply_flags(args, config); !first.ok()) {
    return first.error();
  }
  if (!config.config_file.empty() && !config.help_requested) {
    const std::string path = config.config_file;
    auto file_args = config_file_args(path);
    if (!file_args.ok()) {
      return file_args.error();
    }
    config = PluginConfig{};
    if (auto from_file = apply_flags(*file_args, config); !from_file.ok()) {
      return common::Error{"config " + path + ": " + from_file.error().message};
    }
    if (auto flags = apply_flags(args, config); !flags.ok()) {
      return flags.error();
    }
  }
  if (config.root.empty() || config.kubelet_dir.empty()) {
    return common::Error{"--root and --kubelet-dir must not be empty"};
  }
  return config;
}

std::string plugin_help_text() {
  return R"(epc-device-plugin: SGX device plugin for kubelet (sgx.intel.com/enclave, sgx.intel.com/provision)

Discovers SGX under --root, serves one kubelet device plugin socket per resource under
--kubelet-dir, registers with kubelet (kubelet.sock there) and registers again after every kubelet
restart. A node without usable SGX advertises nothing and says why.

Flags (--flag value or --flag=value):
  --root DIR                 prefix of every discovery path (default /). CPUID is read only with /;
                             a fake tree (tests, demo) is described by its files alone.
  --kubelet-dir DIR          kubelet's device plugin directory (default /var/lib/kubelet/device-plugins)
  --enclave-limit N          sgx.intel.com/enclave slots, 1..10000 (default 110)
  --provision-limit N        sgx.intel.com/provision slots, 1..10000 (default 110)
  --node-name NAME           this node's Kubernetes name (default $NODE_NAME, else the host name)
  --extender HOST:PORT       the extender's NodeReports gRPC address; without it nothing is reported
  --pod-resources-socket P   kubelet's PodResources socket, read to learn who holds slots
                             (default /var/lib/kubelet/pod-resources/kubelet.sock)
  --heartbeat-ms MS          report heartbeat period when nothing changes (default 10000)
  --holders-period-ms MS     PodResources List period; also soon after every Allocate (default 10000)
  --check-interval-ms MS     device node health and restart fallback check period (default 1000)
  --register-timeout-ms MS   bound on one Register call with kubelet (default 10000)
  --healthz-address IP:PORT  serve GET /healthz there for probes (default: off; port 0 = any):
                             200 once every resource is served and registered with kubelet,
                             503 with the reason otherwise
  --config FILE              YAML map of these flags without "--" (enclave-limit: 20); flags given
                             on the command line override it
  --help                     this text

Exit codes: 0 after SIGINT/SIGTERM, 1 on a discovery or startup failure, 2 on bad flags.
)";
}

}  // namespace epc::deviceplugin
