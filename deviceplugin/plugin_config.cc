#include "deviceplugin/plugin_config.h"

#include <string_view>

#include "common/loopback_address.h"
#include "common/options/option_table.h"
#include "common/value_parsers.h"

namespace epc::deviceplugin {

namespace {

using Option = common::options::Option<PluginConfig>;

// Periods and timeouts are whole milliseconds, capped at one hour: a longer one is a typo, not a
// setting.
constexpr std::int64_t kMaxPeriodMs = 3'600'000;

std::string set_text(std::string& out, std::string_view value) {
  out = std::string(value);
  return {};
}

std::string set_non_empty(std::string& out, std::string_view value) {
  if (value.empty()) {
    return "must not be empty";
  }
  return set_text(out, value);
}

std::string set_slots(std::uint32_t& out, std::string_view value) {
  const auto slots = common::parse_int_in(value, 1, kubelet::kMaxSlots);
  if (!slots.ok()) {
    return slots.error().message;
  }
  out = static_cast<std::uint32_t>(*slots);
  return {};
}

std::string set_period(std::chrono::milliseconds& out, std::string_view value) {
  const auto ms = common::parse_int_in(value, 1, kMaxPeriodMs);
  if (!ms.ok()) {
    return ms.error().message;
  }
  out = std::chrono::milliseconds(*ms);
  return {};
}

// "host:port" with a port in 1..65535 (or 0 where `allow_any_port`: the kernel picks one).
std::string set_host_port(std::string& out, std::string_view value, bool allow_any_port) {
  const auto colon = value.rfind(':');
  const auto port =
      colon == std::string_view::npos || colon == 0
          ? common::Result<std::int64_t>(common::Error{})
          : common::parse_int_in(value.substr(colon + 1), allow_any_port ? 0 : 1, 65535);
  if (!port.ok()) {
    return "expected host:port, got \"" + std::string(value) + "\"";
  }
  return set_text(out, value);
}

std::string show_ms(std::chrono::milliseconds ms) { return std::to_string(ms.count()); }

common::options::OptionTable<PluginConfig> options() {
  static const Option kOptions[] = {
      {"root", "root", "DIR",
       "prefix of every discovery path; CPUID is read only with /, a fake tree (tests, demo) is "
       "described by its files alone",
       [](PluginConfig& c, std::string_view v) { return set_non_empty(c.root, v); },
       [](const PluginConfig& c) { return c.root; }},
      {"node_name", "node-name", "NAME",
       "this node's Kubernetes name (empty: $NODE_NAME, else the host name)",
       [](PluginConfig& c, std::string_view v) { return set_text(c.node_name, v); },
       [](const PluginConfig& c) { return c.node_name; }},
      {"slots.enclave", "enclave-limit", "N", "sgx.intel.com/enclave slots advertised (1..10000)",
       [](PluginConfig& c, std::string_view v) { return set_slots(c.enclave_limit, v); },
       [](const PluginConfig& c) { return std::to_string(c.enclave_limit); }},
      {"slots.provision", "provision-limit", "N",
       "sgx.intel.com/provision slots advertised when /dev/sgx_provision exists (1..10000)",
       [](PluginConfig& c, std::string_view v) { return set_slots(c.provision_limit, v); },
       [](const PluginConfig& c) { return std::to_string(c.provision_limit); }},
      {"kubelet.device_plugin_dir", "kubelet-dir", "DIR",
       "kubelet's device plugin directory: our sockets and kubelet.sock live there",
       [](PluginConfig& c, std::string_view v) { return set_non_empty(c.kubelet_dir, v); },
       [](const PluginConfig& c) { return c.kubelet_dir; }},
      {"kubelet.pod_resources_socket", "pod-resources-socket", "PATH",
       "kubelet's PodResources socket, read to learn which pods hold the slots",
       [](PluginConfig& c, std::string_view v) { return set_non_empty(c.pod_resources_socket, v); },
       [](const PluginConfig& c) { return c.pod_resources_socket; }},
      {"kubelet.holders_period_ms", "holders-period-ms", "MS",
       "PodResources List period in milliseconds; also soon after every Allocate",
       [](PluginConfig& c, std::string_view v) { return set_period(c.holders_period, v); },
       [](const PluginConfig& c) { return show_ms(c.holders_period); }},
      {"kubelet.check_interval_ms", "check-interval-ms", "MS",
       "device node health and kubelet-restart fallback check period in milliseconds",
       [](PluginConfig& c, std::string_view v) { return set_period(c.check_interval, v); },
       [](const PluginConfig& c) { return show_ms(c.check_interval); }},
      {"kubelet.register_timeout_ms", "register-timeout-ms", "MS",
       "bound on one Register call with kubelet, in milliseconds",
       [](PluginConfig& c, std::string_view v) { return set_period(c.register_timeout, v); },
       [](const PluginConfig& c) { return show_ms(c.register_timeout); }},
      {"report.extender", "extender", "HOST:PORT",
       "the extender's NodeReports gRPC address (empty: nothing is reported)",
       [](PluginConfig& c, std::string_view v) {
         return v.empty() ? set_text(c.extender, v) : set_host_port(c.extender, v, false);
       },
       [](const PluginConfig& c) { return c.extender; }},
      {"report.every_address", "extender-every-address", "true|false",
       "resolve the extender's host (a headless Service over every scheduler replica) and report "
       "to each of its addresses, so a standby replica's extender is warm when it takes over",
       [](PluginConfig& c, std::string_view v) {
         const auto parsed = common::parse_bool(v);
         if (!parsed.ok()) {
           return parsed.error().message;
         }
         c.extender_every_address = *parsed;
         return std::string{};
       },
       [](const PluginConfig& c) {
         return std::string(c.extender_every_address ? "true" : "false");
       }},
      {"report.resolve_period_ms", "extender-resolve-period-ms", "MS",
       "with extender-every-address: how often the host is resolved again, in milliseconds",
       [](PluginConfig& c, std::string_view v) { return set_period(c.extender_resolve_period, v); },
       [](const PluginConfig& c) { return show_ms(c.extender_resolve_period); }},
      {"report.tls.ca_file", "extender-ca-file", "FILE",
       "verify the extender's certificate against this PEM CA and talk TLS (empty: plain text)",
       [](PluginConfig& c, std::string_view v) { return set_text(c.extender_ca_file, v); },
       [](const PluginConfig& c) { return c.extender_ca_file; }},
      {"report.tls.server_name", "extender-server-name", "NAME",
       "the name the extender's certificate must carry (empty: the host of --extender)",
       [](PluginConfig& c, std::string_view v) { return set_text(c.extender_server_name, v); },
       [](const PluginConfig& c) { return c.extender_server_name; }},
      {"report.token_file", "extender-token-file", "FILE",
       "send this projected ServiceAccount token with every stream (extender grpc.auth token); "
       "re-read at each connection",
       [](PluginConfig& c, std::string_view v) { return set_text(c.extender_token_file, v); },
       [](const PluginConfig& c) { return c.extender_token_file; }},
      {"report.tls.client_cert_file", "extender-client-cert-file", "FILE",
       "this node's PEM client certificate, CN system:node:<node> (extender grpc.auth mtls)",
       [](PluginConfig& c, std::string_view v) { return set_text(c.extender_client_cert_file, v); },
       [](const PluginConfig& c) { return c.extender_client_cert_file; }},
      {"report.tls.client_key_file", "extender-client-key-file", "FILE",
       "the PEM key of --extender-client-cert-file",
       [](PluginConfig& c, std::string_view v) { return set_text(c.extender_client_key_file, v); },
       [](const PluginConfig& c) { return c.extender_client_key_file; }},
      {"report.insecure", "extender-insecure", "true|false",
       "report in plain text to a non-loopback --extender (refused otherwise)",
       [](PluginConfig& c, std::string_view v) {
         const auto parsed = common::parse_bool(v);
         if (!parsed.ok()) {
           return parsed.error().message;
         }
         c.extender_insecure = *parsed;
         return std::string{};
       },
       [](const PluginConfig& c) { return std::string(c.extender_insecure ? "true" : "false"); }},
      {"report.heartbeat_ms", "heartbeat-ms", "MS",
       "report heartbeat period in milliseconds when nothing changes",
       [](PluginConfig& c, std::string_view v) { return set_period(c.heartbeat, v); },
       [](const PluginConfig& c) { return show_ms(c.heartbeat); }},
      {"healthz.address", "healthz-address", "IP:PORT",
       "serve GET /healthz (probes) and GET /metrics (Prometheus) there (empty: off; port 0: "
       "any): /healthz is 200 once every resource is served and registered with kubelet, 503 "
       "with the reason otherwise",
       [](PluginConfig& c, std::string_view v) {
         return v.empty() ? set_text(c.healthz_address, v)
                          : set_host_port(c.healthz_address, v, true);
       },
       [](const PluginConfig& c) { return c.healthz_address; }},
  };
  return kOptions;
}

// Checks that need more than one setting.
std::string validate(const PluginConfig& c) {
  if (c.extender_client_cert_file.empty() != c.extender_client_key_file.empty()) {
    return "--extender-client-cert-file and --extender-client-key-file go together";
  }
  const bool tls = !c.extender_ca_file.empty();
  if (!tls && (!c.extender_token_file.empty() || !c.extender_client_cert_file.empty())) {
    return "--extender-token-file and --extender-client-cert-file need TLS (a token or key must "
           "not cross the network in plain text): give --extender-ca-file";
  }
  if (!tls && !c.extender.empty() && !c.extender_insecure &&
      !common::is_loopback_host(common::host_of(c.extender))) {
    return "--extender " + c.extender +
           " is not loopback and no TLS is configured: give --extender-ca-file (and the "
           "credential the extender wants), or --extender-insecure true to report in plain text "
           "knowingly";
  }
  return {};
}

}  // namespace

common::Result<PluginConfig> parse_plugin_flags(const std::vector<std::string>& args) {
  const std::vector<std::string_view> views(args.begin(), args.end());
  auto loaded = common::options::load(options(), views, PluginConfig{});
  if (!loaded.ok()) {
    return loaded.error();
  }
  PluginConfig config = std::move(loaded->config);
  config.help_requested = loaded->help;
  config.config_file = loaded->config_path;
  if (config.help_requested) {
    return config;
  }
  if (auto bad = validate(config); !bad.empty()) {
    return common::Error{bad};
  }
  config.check_requested = loaded->check;
  return config;
}

std::string plugin_help_text() {
  return "Usage: epc-device-plugin [--config FILE] [--FLAG VALUE | --FLAG=VALUE]...\n"
         "\n"
         "SGX device plugin for kubelet (sgx.intel.com/enclave, sgx.intel.com/provision).\n"
         "Discovers SGX under --root, serves one kubelet device plugin socket per resource under\n"
         "--kubelet-dir, registers with kubelet (kubelet.sock there) and registers again after\n"
         "every kubelet restart. A node without usable SGX advertises nothing and says why.\n"
         "\n"
         "Every setting can be given in the YAML file under its key (shown in parentheses) or as\n"
         "a flag; flags override the file.\n"
         "\n"
         "  --config FILE\n"
         "      YAML configuration file\n"
         "  --help\n"
         "      print this text and exit\n"
         "  --check-config\n"
         "      load and validate the file and flags, say so and exit (0 valid, 2 not)\n" +
         common::options::help_rows(options(), PluginConfig{}) +
         "\n"
         "Exit codes: 0 after SIGINT/SIGTERM, 1 on a discovery or startup failure, 2 on bad "
         "flags.\n";
}

}  // namespace epc::deviceplugin
