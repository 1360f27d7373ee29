#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"
#include "deviceplugin/kubelet/plugin_settings.h"

namespace epc::deviceplugin {

// epc-device-plugin's configuration: defaults, then an optional YAML file (--config), then flags,
// which override it. One table row per setting (common/options): the YAML key is snake_case and
// grouped like the extender's (`slots.enclave: 20`), the flag keeps its name (`--enclave-limit`).
struct PluginConfig {
  std::string root = "/";  // prefix of every discovery path; CPUID is used only with "/"
  std::string kubelet_dir{kubelet::kDefaultDevicePluginDir};
  std::uint32_t enclave_limit = kubelet::kDefaultSlots;
  std::uint32_t provision_limit = kubelet::kDefaultSlots;
  std::string node_name;  // default: $NODE_NAME, else the host name
  std::string extender;   // host:port of the extender's NodeReports service; empty = none
  // Report to every address the extender's host resolves to (a headless Service over the
  // scheduler replicas), re-resolved every extender_resolve_period.
  bool extender_every_address = false;
  std::chrono::milliseconds extender_resolve_period{10000};
  // TLS to the extender (docs/security.md). A CA file: the extender's certificate must chain to
  // it and name the --extender host (or extender_server_name). No CA file: plain text, which is
  // used only for a loopback --extender unless extender_insecure says otherwise.
  std::string extender_ca_file;
  std::string extender_server_name;  // empty: the host of --extender
  // grpc.auth token: the projected ServiceAccount token file, sent as a bearer token with every
  // stream (re-read at each connection: kubelet rotates it).
  std::string extender_token_file;
  // grpc.auth mtls: this node's client certificate (CN system:node:<node>) and key.
  std::string extender_client_cert_file;
  std::string extender_client_key_file;
  bool extender_insecure = false;  // plain text to a non-loopback extender, knowingly
  std::string pod_resources_socket{"/var/lib/kubelet/pod-resources/kubelet.sock"};
  std::chrono::milliseconds heartbeat{10000};
  std::chrono::milliseconds holders_period{10000};  // PodResources List period (and after Allocate)
  std::chrono::milliseconds check_interval{1000};
  std::chrono::milliseconds register_timeout{10000};
  std::string healthz_address;  // "IPv4:port" of the /healthz endpoint; empty = none
  std::string config_file;      // the --config YAML file read, if any
  bool help_requested = false;
  bool check_requested = false;  // --check-config: validated; exit 0 without starting
};

// Parses "--flag value" and "--flag=value" arguments (argv without the program name), reading the
// --config file first when there is one. Unknown flags or keys, missing values, non-numbers,
// out-of-range limits and unreadable or malformed files -> Error naming the flag (or file and key).
common::Result<PluginConfig> parse_plugin_flags(const std::vector<std::string>& args);

// The --help text: every flag with its YAML key, meaning and default, from the table.
std::string plugin_help_text();

}  // namespace epc::deviceplugin
