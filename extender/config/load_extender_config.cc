#include "extender/config/load_extender_config.h"

#include <algorithm>
#include <climits>
#include <vector>

#include "common/byte_format.h"
#include "common/duration.h"
#include "common/loopback_address.h"
#include "common/options/option_table.h"
#include "common/sgx_resources.h"
#include "common/value_parsers.h"
#include "extender/core/pod_mix.h"

namespace epc::config {

std::string_view grpc_auth_name(ExtenderConfig::GrpcAuth auth) {
  switch (auth) {
    case ExtenderConfig::GrpcAuth::kNone:
      return "none";
    case ExtenderConfig::GrpcAuth::kToken:
      return "token";
    case ExtenderConfig::GrpcAuth::kMtls:
      return "mtls";
  }
  return "none";
}

namespace {

// ---------------------------------------------------------------------------------------------
// Value parsers: each returns an error text, empty when the value was stored.

constexpr std::int64_t kMaxBodyLimitBytes = common::kGiB;           // far above any real request
constexpr std::int64_t kMaxHeadroomBytes = std::int64_t{64} << 40;  // the largest EPC we accept
// FragmentationAware's mix half-life: beyond a million SGX pods an old shape would take longer to
// fade than any workload change the mix is meant to follow, so larger values are surely typos.
constexpr std::int64_t kMaxMixHalfLifePods = 1'000'000;
constexpr std::int64_t kMaxFilterTopK = 100'000;
// The input bounds (docs/operations.md, "Bounds"). Their ranges keep a typo from disabling a bound
// by accident: the upper ends are far above any real need, the lower ones keep kube-scheduler's
// and the plugins' own traffic possible.
constexpr std::int64_t kMaxCountBound = 1'000'000;           // connections, streams, nodes, rates
constexpr std::int64_t kMinHeaderLimitBytes = common::kKiB;  // kube-scheduler's: ~300 bytes
constexpr std::int64_t kMaxHeaderLimitBytes = common::kMiB;  // Beast keeps the header in memory
constexpr std::int64_t kMinKubeBodyBytes = common::kKiB;
constexpr std::int64_t kMaxKubeBodyBytes = std::int64_t{16} << 30;
// The config keeps the half-life as a whole number of pods; the core's default must be one, and in
// range, or the documented default would be refused when written back into the file.
static_assert(
    core::PodMix::kDefaultHalfLifePods >= 1.0 &&
        core::PodMix::kDefaultHalfLifePods <= static_cast<double>(kMaxMixHalfLifePods) &&
        core::PodMix::kDefaultHalfLifePods ==
            static_cast<double>(static_cast<std::int64_t>(core::PodMix::kDefaultHalfLifePods)),
    "PodMix::kDefaultHalfLifePods must be a whole number in 1..kMaxMixHalfLifePods");

// Stores what a shared parser (common/value_parsers.h) read, or returns its error text: the table's
// rows speak in error texts, empty when the value was stored.
template <typename T>
std::string store(const common::Result<T>& parsed, T& out) {
  if (!parsed.ok()) {
    return parsed.error().message;
  }
  out = *parsed;
  return {};
}

std::string parse_int(std::string_view text, std::int64_t min, std::int64_t max,
                      std::int64_t& out) {
  return store(common::parse_int_in(text, min, max), out);
}

std::string parse_bytes(std::string_view text, std::int64_t min, std::int64_t max,
                        std::int64_t& out) {
  return store(common::parse_bytes_in(text, min, max), out);
}

// A duration in milliseconds; zero only where `allow_zero` (it means "never" there).
std::string parse_positive_duration(std::string_view text, bool allow_zero, std::int64_t& out) {
  std::int64_t ms = 0;
  if (auto bad = store(common::parse_duration_ms(text), ms); !bad.empty()) {
    return bad;
  }
  if (ms == 0 && !allow_zero) {
    return "must be longer than 0";
  }
  out = ms;
  return {};
}

std::string parse_bool(std::string_view text, bool& out) {
  return store(common::parse_bool(text), out);
}

// The items of a comma-separated list, spaces around each trimmed, empty ones skipped.
std::vector<std::string_view> list_items(std::string_view text) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    while (!item.empty() && item.front() == ' ') {
      item.remove_prefix(1);
    }
    while (!item.empty() && item.back() == ' ') {
      item.remove_suffix(1);
    }
    if (!item.empty()) {
      items.push_back(item);
    }
  }
  return items;
}

// "kubernetes.azure.com/sgx_epc_mem_in_MiB=Mi,alibabacloud.com/sgx_epc_MiB=Mi": each unit is a
// quantity ("Mi" alone means 1Mi). Empty: no aliases.
std::string parse_aliases(std::string_view text, std::vector<common::ResourceAlias>& out) {
  std::vector<common::ResourceAlias> aliases;
  for (const std::string_view item : list_items(text)) {
    const std::size_t equals = item.find('=');
    if (equals == std::string_view::npos || equals == 0 || equals + 1 == item.size()) {
      return "\"" + std::string(item) + "\" must be NAME=UNIT, e.g. " +
             std::string(common::kAzureEpcResource) + "=Mi";
    }
    std::string unit(item.substr(equals + 1));
    if (unit.front() < '0' || unit.front() > '9') {
      unit.insert(0, "1");
    }
    std::int64_t bytes = 0;
    if (auto bad = parse_bytes(unit, 1, common::kTiB, bytes); !bad.empty()) {
      return "alias " + std::string(item.substr(0, equals)) + ": unit " + bad;
    }
    aliases.push_back({std::string(item.substr(0, equals)), bytes});
  }
  out = std::move(aliases);
  return {};
}

// "64Mi,256Mi,1Gi,4Gi": at most 16 distinct quantities, each 1Mi..1Ti.
std::string parse_shapes(std::string_view text, std::vector<std::int64_t>& out) {
  std::vector<std::int64_t> shapes;
  for (const std::string_view item : list_items(text)) {
    std::int64_t bytes = 0;
    if (auto bad = parse_bytes(item, common::kMiB, common::kTiB, bytes); !bad.empty()) {
      return "shape " + std::string(item) + ": " + bad;
    }
    if (std::find(shapes.begin(), shapes.end(), bytes) != shapes.end()) {
      return "shape " + std::string(item) + " is listed twice";
    }
    shapes.push_back(bytes);
  }
  if (shapes.size() > 16) {
    return "at most 16 shapes (each is one series per metric)";
  }
  out = std::move(shapes);
  return {};
}

std::string show_shapes(const std::vector<std::int64_t>& shapes) {
  std::string out;
  for (const std::int64_t bytes : shapes) {
    out.append(out.empty() ? "" : ",").append(common::quantity_string(bytes));
  }
  return out;
}

std::string show_aliases(const std::vector<common::ResourceAlias>& aliases) {
  std::string out;
  for (const common::ResourceAlias& alias : aliases) {
    if (!out.empty()) {
      out.push_back(',');
    }
    out.append(alias.name).append("=").append(common::quantity_string(alias.bytes_per_unit));
  }
  return out;
}

std::string parse_path(std::string_view text, std::string& out) {
  out = std::string(text);
  return {};
}

std::string show_bool(bool value) { return value ? "true" : "false"; }

std::string parse_grpc_auth(std::string_view text, ExtenderConfig::GrpcAuth& out) {
  for (const auto auth : {ExtenderConfig::GrpcAuth::kNone, ExtenderConfig::GrpcAuth::kToken,
                          ExtenderConfig::GrpcAuth::kMtls}) {
    if (text == grpc_auth_name(auth)) {
      out = auth;
      return {};
    }
  }
  return "\"" + std::string(text) + "\" must be none, token or mtls";
}

// "sgx-system/epc-device-plugin,ns/name": each a namespace and a name.
std::string parse_service_accounts(std::string_view text, std::vector<std::string>& out) {
  std::vector<std::string> accounts;
  for (const std::string_view item : list_items(text)) {
    const std::size_t slash = item.find('/');
    if (slash == std::string_view::npos || slash == 0 || slash + 1 == item.size() ||
        item.find('/', slash + 1) != std::string_view::npos) {
      return "\"" + std::string(item) +
             "\" must be NAMESPACE/NAME, e.g. sgx-system/epc-device-plugin";
    }
    accounts.emplace_back(item);
  }
  out = std::move(accounts);
  return {};
}

std::string show_list(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    out.append(out.empty() ? "" : ",").append(item);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The option table: one row per setting, shared by YAML, flags and --help.

using Option = common::options::Option<ExtenderConfig>;

common::options::OptionTable<ExtenderConfig> options() {
  static const Option kOptions[] = {
      {"http.address", "http-address", "ADDR", "address the kube-scheduler HTTP API listens on",
       [](ExtenderConfig& c, std::string_view v) -> std::string {
         if (v.empty()) {
           return "must not be empty";
         }
         c.http_address = std::string(v);
         return {};
       },
       [](const ExtenderConfig& c) { return c.http_address; }},
      {"http.port", "http-port", "N", "TCP port of the HTTP API (0 picks a free one)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t port = 0;
         auto bad = parse_int(v, 0, 65535, port);
         c.http_port = static_cast<std::uint16_t>(port);
         return bad;
       },
       [](const ExtenderConfig& c) { return std::to_string(c.http_port); }},
      {"http.url_prefix", "url-prefix", "PATH",
       "serves PATH/filter and PATH/prioritize (kube-scheduler's urlPrefix)",
       [](ExtenderConfig& c, std::string_view v) -> std::string {
         if (!v.empty() && (v.front() != '/' || v.back() == '/')) {
           return "\"" + std::string(v) + "\" must start with / and not end with /";
         }
         if (v.find_first_of(" ?#") != std::string_view::npos) {
           return "\"" + std::string(v) + "\" must not contain spaces, ? or #";
         }
         c.url_prefix = std::string(v);
         return {};
       },
       [](const ExtenderConfig& c) { return c.url_prefix; }},
      {"http.body_limit", "body-limit", "BYTES",
       "largest request body accepted; larger ones get an Error reply (quantity, e.g. 8Mi)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t bytes = 0;
         auto bad = parse_bytes(v, 1, kMaxBodyLimitBytes, bytes);
         c.http_body_limit_bytes = static_cast<std::size_t>(bytes);
         return bad;
       },
       [](const ExtenderConfig& c) {
         return common::quantity_string(static_cast<std::int64_t>(c.http_body_limit_bytes));
       }},
      {"http.read_timeout", "http-read-timeout", "DURATION",
       "a request must arrive whole within this (slow clients are cut off)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_positive_duration(v, false, c.http_read_timeout_ms);
       },
       [](const ExtenderConfig& c) { return common::format_duration_ms(c.http_read_timeout_ms); }},
      {"http.idle_timeout", "http-idle-timeout", "DURATION",
       "idle keep-alive connections are closed after this (keep above Go's 90s)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_positive_duration(v, false, c.http_idle_timeout_ms);
       },
       [](const ExtenderConfig& c) { return common::format_duration_ms(c.http_idle_timeout_ms); }},
      {"http.threads", "http-threads", "N", "threads serving HTTP (1..256)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t n = 0;
         auto bad = parse_int(v, 1, 256, n);
         c.http_threads = static_cast<int>(n);
         return bad;
       },
       [](const ExtenderConfig& c) { return std::to_string(c.http_threads); }},
      {"http.max_connections", "http-max-connections", "N",
       "open connections at most; one more is answered 503 and closed (1..1000000)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t n = 0;
         auto bad = parse_int(v, 1, kMaxCountBound, n);
         c.http_max_connections = static_cast<std::size_t>(n);
         return bad;
       },
       [](const ExtenderConfig& c) { return std::to_string(c.http_max_connections); }},
      {"http.header_limit", "http-header-limit", "BYTES",
       "largest request header accepted; larger ones get 431 and the connection closes (quantity, "
       "1Ki..1Mi)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t bytes = 0;
         auto bad = parse_bytes(v, kMinHeaderLimitBytes, kMaxHeaderLimitBytes, bytes);
         c.http_header_limit_bytes = static_cast<std::size_t>(bytes);
         return bad;
       },
       [](const ExtenderConfig& c) {
         return common::quantity_string(static_cast<std::int64_t>(c.http_header_limit_bytes));
       }},
      {"http.tls.cert_file", "http-tls-cert-file", "FILE",
       "serve HTTPS with this PEM certificate (chain); with http.tls.key_file; empty = plain text",
       [](ExtenderConfig& c, std::string_view v) { return parse_path(v, c.http_tls_cert_file); },
       [](const ExtenderConfig& c) { return c.http_tls_cert_file; }},
      {"http.tls.key_file", "http-tls-key-file", "FILE",
       "the PEM private key of http.tls.cert_file",
       [](ExtenderConfig& c, std::string_view v) { return parse_path(v, c.http_tls_key_file); },
       [](const ExtenderConfig& c) { return c.http_tls_key_file; }},
      {"http.tls.client_ca_file", "http-tls-client-ca-file", "FILE",
       "serve only clients with a certificate this PEM CA signed (kube-scheduler's tlsConfig "
       "certData); empty = any client",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_path(v, c.http_tls_client_ca_file);
       },
       [](const ExtenderConfig& c) { return c.http_tls_client_ca_file; }},
      {"http.insecure", "http-insecure", "true|false",
       "serve plain text on a non-loopback http.address (refused otherwise)",
       [](ExtenderConfig& c, std::string_view v) { return parse_bool(v, c.http_insecure); },
       [](const ExtenderConfig& c) { return show_bool(c.http_insecure); }},
      {"grpc.address", "grpc-address", "HOST:PORT",
       "address the device plugins' NodeReports gRPC stream connects to (port 0 picks one)",
       [](ExtenderConfig& c, std::string_view v) -> std::string {
         if (v.empty()) {
           return "must not be empty";
         }
         c.grpc_address = std::string(v);
         return {};
       },
       [](const ExtenderConfig& c) { return c.grpc_address; }},
      {"grpc.max_message_size", "grpc-max-message-size", "BYTES",
       "largest NodeReport message accepted (quantity)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t bytes = 0;
         auto bad = parse_bytes(v, 1, INT_MAX, bytes);
         c.grpc_max_message_bytes = static_cast<std::size_t>(bytes);
         return bad;
       },
       [](const ExtenderConfig& c) {
         return common::quantity_string(static_cast<std::int64_t>(c.grpc_max_message_bytes));
       }},
      {"grpc.stream_max_in_flight", "grpc-stream-max-in-flight", "N",
       "unacknowledged messages per plugin stream before reading pauses (1..10000)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t n = 0;
         auto bad = parse_int(v, 1, 10000, n);
         c.grpc_stream_max_in_flight = static_cast<std::size_t>(n);
         return bad;
       },
       [](const ExtenderConfig& c) { return std::to_string(c.grpc_stream_max_in_flight); }},
      {"grpc.max_streams", "grpc-max-streams", "N",
       "report streams open at once; one more ends with RESOURCE_EXHAUSTED (1..1000000)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t n = 0;
         auto bad = parse_int(v, 1, kMaxCountBound, n);
         c.grpc_max_streams = static_cast<std::size_t>(n);
         return bad;
       },
       [](const ExtenderConfig& c) { return std::to_string(c.grpc_max_streams); }},
      {"grpc.stream_max_rate", "grpc-stream-max-rate", "N",
       "messages per second one report stream may send, sustained; a stream over it ends with "
       "RESOURCE_EXHAUSTED (0..1000000; 0 = no limit)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_int(v, 0, kMaxCountBound, c.grpc_stream_max_rate);
       },
       [](const ExtenderConfig& c) { return std::to_string(c.grpc_stream_max_rate); }},
      {"grpc.stream_burst", "grpc-stream-burst", "N",
       "messages one report stream may send in a burst before its rate applies (1..1000000)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_int(v, 1, kMaxCountBound, c.grpc_stream_burst);
       },
       [](const ExtenderConfig& c) { return std::to_string(c.grpc_stream_burst); }},
      {"grpc.stream_max_nodes", "grpc-stream-max-nodes", "N",
       "distinct nodes one report stream may report for; a report for one more gets an error Ack "
       "(1..1000000)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t n = 0;
         auto bad = parse_int(v, 1, kMaxCountBound, n);
         c.grpc_stream_max_nodes = static_cast<std::size_t>(n);
         return bad;
       },
       [](const ExtenderConfig& c) { return std::to_string(c.grpc_stream_max_nodes); }},
      {"grpc.tls.cert_file", "grpc-tls-cert-file", "FILE",
       "serve the report port over TLS with this PEM certificate (chain); with grpc.tls.key_file; "
       "empty = plain text",
       [](ExtenderConfig& c, std::string_view v) { return parse_path(v, c.grpc_tls_cert_file); },
       [](const ExtenderConfig& c) { return c.grpc_tls_cert_file; }},
      {"grpc.tls.key_file", "grpc-tls-key-file", "FILE",
       "the PEM private key of grpc.tls.cert_file",
       [](ExtenderConfig& c, std::string_view v) { return parse_path(v, c.grpc_tls_key_file); },
       [](const ExtenderConfig& c) { return c.grpc_tls_key_file; }},
      {"grpc.tls.client_ca_file", "grpc-tls-client-ca-file", "FILE",
       "grpc.auth mtls: the PEM CA that signs the plugins' client certificates",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_path(v, c.grpc_tls_client_ca_file);
       },
       [](const ExtenderConfig& c) { return c.grpc_tls_client_ca_file; }},
      {"grpc.auth", "grpc-auth", "none|token|mtls",
       "how a plugin proves its node: token (projected ServiceAccount token, TokenReview), mtls "
       "(client certificate CN system:node:NAME) or none; with token or mtls a stream reports for "
       "its own node only",
       [](ExtenderConfig& c, std::string_view v) { return parse_grpc_auth(v, c.grpc_auth); },
       [](const ExtenderConfig& c) { return std::string(grpc_auth_name(c.grpc_auth)); }},
      {"grpc.token.audience", "grpc-token-audience", "NAME",
       "grpc.auth token: the audience the plugins' tokens must be issued for",
       [](ExtenderConfig& c, std::string_view v) -> std::string {
         if (v.empty()) {
           return "must not be empty";
         }
         c.grpc_token_audience = std::string(v);
         return {};
       },
       [](const ExtenderConfig& c) { return c.grpc_token_audience; }},
      {"grpc.token.service_accounts", "grpc-token-service-accounts", "NS/NAME,...",
       "grpc.auth token: the service accounts whose tokens may report",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_service_accounts(v, c.grpc_token_service_accounts);
       },
       [](const ExtenderConfig& c) { return show_list(c.grpc_token_service_accounts); }},
      {"grpc.token.cache_ttl", "grpc-token-cache-ttl", "DURATION",
       "grpc.auth token: a reviewed token is trusted this long (at most until it expires) before "
       "kube-apiserver reviews it again",
       [](ExtenderConfig& c, std::string_view v) {
         return store(common::parse_duration_ms_in(v, 1000, 3600000), c.grpc_token_cache_ttl_ms);
       },
       [](const ExtenderConfig& c) {
         return common::format_duration_ms(c.grpc_token_cache_ttl_ms);
       }},
      {"grpc.insecure", "grpc-insecure", "true|false",
       "accept plain text or unauthenticated plugins (grpc.auth none) on a non-loopback "
       "grpc.address (refused otherwise)",
       [](ExtenderConfig& c, std::string_view v) { return parse_bool(v, c.grpc_insecure); },
       [](const ExtenderConfig& c) { return show_bool(c.grpc_insecure); }},
      {"tls.reload_period", "tls-reload-period", "DURATION",
       "how often the TLS certificate, key and CA files are checked for a change (1s..1h)",
       [](ExtenderConfig& c, std::string_view v) {
         return store(common::parse_duration_ms_in(v, 1000, 3600000), c.tls_reload_period_ms);
       },
       [](const ExtenderConfig& c) { return common::format_duration_ms(c.tls_reload_period_ms); }},
      {"scheduling.policy", "policy", "NAME",
       "scoring policy: StrandingAware, BestFit, LeastAllocated, MostAllocated or "
       "FragmentationAware",
       [](ExtenderConfig& c, std::string_view v) -> std::string {
         // The error lists the names of the core's policy table, so it cannot fall behind it.
         auto kind = core::score::parse_policy_name(v);
         if (!kind.ok()) {
           return kind.error().message;
         }
         c.policy = *kind;
         return {};
       },
       [](const ExtenderConfig& c) { return std::string(core::score::policy_name(c.policy)); }},
      {"scheduling.weights.epc", "epc-weight", "N", "weight of EPC in scores (0..100)",
       [](ExtenderConfig& c, std::string_view v) { return parse_int(v, 0, 100, c.weights.epc); },
       [](const ExtenderConfig& c) { return std::to_string(c.weights.epc); }},
      {"scheduling.weights.enclave_slots", "slot-weight", "N",
       "weight of enclave slots in scores (0..100; not both weights 0)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_int(v, 0, 100, c.weights.enclave_slots);
       },
       [](const ExtenderConfig& c) { return std::to_string(c.weights.enclave_slots); }},
      {"scheduling.epc_headroom", "epc-headroom", "BYTES",
       "EPC kept free on every node for the kernel and non-pod enclaves (quantity)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_bytes(v, 0, kMaxHeadroomBytes, c.epc_headroom_bytes);
       },
       [](const ExtenderConfig& c) { return common::quantity_string(c.epc_headroom_bytes); }},
      {"scheduling.stale_after", "stale-after", "DURATION",
       "a node whose last report is older is not trusted (0 = never stale)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_positive_duration(v, true, c.stale_after_ms);
       },
       [](const ExtenderConfig& c) { return common::format_duration_ms(c.stale_after_ms); }},
      {"scheduling.fragmentation.half_life_pods", "mix-half-life-pods", "N",
       "FragmentationAware: SGX pods after which a pod's weight in the expected mix halves "
       "(1..1000000)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_int(v, 1, kMaxMixHalfLifePods, c.mix_half_life_pods);
       },
       [](const ExtenderConfig& c) { return std::to_string(c.mix_half_life_pods); }},
      {"scheduling.single_out_top_node", "single-out-top-node", "true|false",
       "among nodes tied for the best score, give 10 to one only (chosen by pod UID), so "
       "kube-scheduler's spreading scores do not choose among them",
       [](ExtenderConfig& c, std::string_view v) { return parse_bool(v, c.single_out_top_node); },
       [](const ExtenderConfig& c) {
         return std::string(c.single_out_top_node ? "true" : "false");
       }},
      {"scheduling.filter_top_k", "filter-top-k", "K",
       "one-round-trip mode: filter keeps only the K nodes that fit best by the policy (for a "
       "kube-scheduler configured without prioritizeVerb); 0 = keep every node that fits "
       "(0..100000)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_int(v, 0, kMaxFilterTopK, c.filter_top_k);
       },
       [](const ExtenderConfig& c) { return std::to_string(c.filter_top_k); }},
      {"scheduling.epc_implies_enclave_slot", "epc-implies-enclave-slot", "true|false",
       "a pod asking for EPC but no enclave slot is counted as asking for one",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_bool(v, c.pod_request.epc_implies_enclave_slot);
       },
       [](const ExtenderConfig& c) {
         return std::string(c.pod_request.epc_implies_enclave_slot ? "true" : "false");
       }},
      {"scheduling.request_memory_pods", "request-memory-pods", "N",
       "scheduler requests remembered to learn the EPC of reported pods (1..10000000)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t n = 0;
         auto bad = parse_int(v, 1, 10000000, n);
         c.request_memory_pods = static_cast<std::size_t>(n);
         return bad;
       },
       [](const ExtenderConfig& c) { return std::to_string(c.request_memory_pods); }},
      {"scheduling.epc_aliases", "epc-aliases", "NAME=UNIT,...",
       "other resource names read as EPC, with their unit (other vendors' plugins count MiB); "
       "empty = none",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_aliases(v, c.pod_request.epc_aliases);
       },
       [](const ExtenderConfig& c) { return show_aliases(c.pod_request.epc_aliases); }},
      {"metrics.capacity_shapes", "capacity-shapes", "Q,Q,...",
       "EPC sizes of the standard pod shapes (one enclave each) whose placeable count "
       "epc_cluster_placeable_pods exports; empty = none",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_shapes(v, c.capacity_shapes_epc_bytes);
       },
       [](const ExtenderConfig& c) { return show_shapes(c.capacity_shapes_epc_bytes); }},
      {"kube.kubeconfig", "kubeconfig", "FILE",
       "kubeconfig for the Kubernetes API (watch of pods and nodes, the bind verb); empty = off "
       "unless kube.in_cluster",
       [](ExtenderConfig& c, std::string_view v) -> std::string {
         c.kube_kubeconfig = std::string(v);
         return {};
       },
       [](const ExtenderConfig& c) { return c.kube_kubeconfig; }},
      {"kube.context", "kube-context", "NAME", "kubeconfig context (empty = current-context)",
       [](ExtenderConfig& c, std::string_view v) -> std::string {
         c.kube_context = std::string(v);
         return {};
       },
       [](const ExtenderConfig& c) { return c.kube_context; }},
      {"kube.in_cluster", "in-cluster", "true|false",
       "use the pod's service account to reach the Kubernetes API",
       [](ExtenderConfig& c, std::string_view v) { return parse_bool(v, c.kube_in_cluster); },
       [](const ExtenderConfig& c) { return std::string(c.kube_in_cluster ? "true" : "false"); }},
      {"kube.qps", "kube-qps", "N", "API requests per second, sustained (1..10000)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t n = 0;
         auto bad = parse_int(v, 1, 10000, n);
         c.kube_qps = static_cast<double>(n);
         return bad;
       },
       [](const ExtenderConfig& c) {
         return std::to_string(static_cast<std::int64_t>(c.kube_qps));
       }},
      {"kube.burst", "kube-burst", "N", "API requests allowed in a burst (1..10000)",
       [](ExtenderConfig& c, std::string_view v) { return parse_int(v, 1, 10000, c.kube_burst); },
       [](const ExtenderConfig& c) { return std::to_string(c.kube_burst); }},
      {"kube.request_timeout", "kube-request-timeout", "DURATION",
       "one API request, connect to last byte",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_positive_duration(v, false, c.kube_request_timeout_ms);
       },
       [](const ExtenderConfig& c) {
         return common::format_duration_ms(c.kube_request_timeout_ms);
       }},
      {"kube.bind_workers", "bind-workers", "N", "Binding POSTs in flight at once (1..64)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_int(v, 1, 64, c.kube_bind_workers);
       },
       [](const ExtenderConfig& c) { return std::to_string(c.kube_bind_workers); }},
      {"kube.max_watch_event_size", "kube-max-watch-event-size", "BYTES",
       "largest watch event (one object) accepted; a larger one ends the watch and the informer "
       "lists again after backoff (quantity, 1Ki..16Gi)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t bytes = 0;
         auto bad = parse_bytes(v, kMinKubeBodyBytes, kMaxKubeBodyBytes, bytes);
         c.kube_max_watch_event_bytes = static_cast<std::size_t>(bytes);
         return bad;
       },
       [](const ExtenderConfig& c) {
         return common::quantity_string(static_cast<std::int64_t>(c.kube_max_watch_event_bytes));
       }},
      {"kube.max_response_size", "kube-max-response-size", "BYTES",
       "largest API response body (a list page) accepted; a larger one fails its request "
       "(quantity, 1Ki..16Gi)",
       [](ExtenderConfig& c, std::string_view v) {
         std::int64_t bytes = 0;
         auto bad = parse_bytes(v, kMinKubeBodyBytes, kMaxKubeBodyBytes, bytes);
         c.kube_max_response_bytes = static_cast<std::size_t>(bytes);
         return bad;
       },
       [](const ExtenderConfig& c) {
         return common::quantity_string(static_cast<std::int64_t>(c.kube_max_response_bytes));
       }},
      {"ledger.reservation_ttl", "reservation-ttl", "DURATION",
       "a bind's reservation counts until the pod watch confirms it, or this long at most",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_positive_duration(v, false, c.reservation_ttl_ms);
       },
       [](const ExtenderConfig& c) { return common::format_duration_ms(c.reservation_ttl_ms); }},
      {"ledger.hint_ttl", "hint-ttl", "DURATION",
       "a pod seen only in filter/prioritize is remembered this long (0 = until evicted)",
       [](ExtenderConfig& c, std::string_view v) {
         return parse_positive_duration(v, true, c.hint_ttl_ms);
       },
       [](const ExtenderConfig& c) { return common::format_duration_ms(c.hint_ttl_ms); }},
  };
  return kOptions;
}

// Checks that need more than one field.
std::string validate(const ExtenderConfig& config) {
  if (config.weights.epc == 0 && config.weights.enclave_slots == 0) {
    return "scheduling.weights: epc and enclave_slots cannot both be 0";
  }
  if (config.kube_in_cluster && !config.kube_kubeconfig.empty()) {
    return "kube.in_cluster and kube.kubeconfig exclude each other: give one";
  }
  if (config.http_tls_cert_file.empty() != config.http_tls_key_file.empty()) {
    return "http.tls.cert_file and http.tls.key_file go together: give both or neither";
  }
  if (!config.http_tls_client_ca_file.empty() && config.http_tls_cert_file.empty()) {
    return "http.tls.client_ca_file needs TLS: give http.tls.cert_file and http.tls.key_file";
  }
  if (config.http_tls_cert_file.empty() && !config.http_insecure &&
      !common::is_loopback_host(config.http_address)) {
    return "http.address " + config.http_address +
           " is not loopback and no TLS is configured: give http.tls.cert_file and "
           "http.tls.key_file, or http.insecure: true to serve plain text knowingly";
  }
  if (config.grpc_tls_cert_file.empty() != config.grpc_tls_key_file.empty()) {
    return "grpc.tls.cert_file and grpc.tls.key_file go together: give both or neither";
  }
  const bool grpc_tls = !config.grpc_tls_cert_file.empty();
  using GrpcAuth = ExtenderConfig::GrpcAuth;
  if (config.grpc_auth != GrpcAuth::kNone && !grpc_tls) {
    return std::string("grpc.auth ") + std::string(grpc_auth_name(config.grpc_auth)) +
           " needs TLS (a token or certificate must not cross the network in plain text): give "
           "grpc.tls.cert_file and grpc.tls.key_file";
  }
  if (config.grpc_auth == GrpcAuth::kMtls && config.grpc_tls_client_ca_file.empty()) {
    return "grpc.auth mtls needs grpc.tls.client_ca_file (the CA of the plugins' certificates)";
  }
  if (config.grpc_auth != GrpcAuth::kMtls && !config.grpc_tls_client_ca_file.empty()) {
    return "grpc.tls.client_ca_file is read with grpc.auth mtls only";
  }
  if (config.grpc_auth == GrpcAuth::kToken && !config.api_enabled()) {
    return "grpc.auth token needs the Kubernetes API (kube.kubeconfig or kube.in_cluster) to "
           "review the plugins' tokens";
  }
  if (config.grpc_auth == GrpcAuth::kToken && config.grpc_token_service_accounts.empty()) {
    return "grpc.auth token needs at least one grpc.token.service_accounts entry";
  }
  if ((config.grpc_auth == GrpcAuth::kNone || !grpc_tls) && !config.grpc_insecure &&
      !common::is_loopback_host(common::host_of(config.grpc_address))) {
    return "grpc.address " + config.grpc_address +
           " is not loopback and plugins are not authenticated: set grpc.auth token or mtls (with "
           "grpc.tls.*), or grpc.insecure: true to accept any report knowingly";
  }
  return {};
}

}  // namespace

common::Result<ExtenderConfig> apply_yaml_config(std::string_view yaml, ExtenderConfig config) {
  return common::options::apply_yaml(options(), yaml, std::move(config));
}

common::Result<ExtenderConfig> load_extender_config(int argc, char** argv) {
  std::vector<std::string_view> args;
  for (int i = 1; i < argc; ++i) {
    args.emplace_back(argv[i]);
  }
  auto loaded = common::options::load(options(), args, ExtenderConfig{});
  if (!loaded.ok()) {
    return loaded.error();
  }
  ExtenderConfig config = std::move(loaded->config);
  if (loaded->help) {
    config.help_requested = true;
    return config;
  }
  if (auto bad = validate(config); !bad.empty()) {
    return common::Error{bad};
  }
  config.check_requested = loaded->check;
  return config;
}

std::string help_text() {
  const ExtenderConfig defaults;
  std::string out =
      "Usage: epc-extender [--config FILE] [--FLAG VALUE | --FLAG=VALUE]...\n"
      "\n"
      "SGX EPC-aware kube-scheduler extender: serves filter/prioritize over HTTP and takes node\n"
      "reports from epc-device-plugin over gRPC.\n"
      "\n"
      "Every setting can be given in the YAML file under its key (shown in parentheses) or as a\n"
      "flag; flags override the file. Quantities take Kubernetes suffixes (8Mi, 1Gi), durations\n"
      "Go-style units (500ms, 30s, 1m30s).\n"
      "\n"
      "  --config FILE\n"
      "      YAML configuration file (example: config/extender/epc-extender.yaml)\n"
      "  --help\n"
      "      print this text and exit\n"
      "  --check-config\n"
      "      load and validate the file and flags, say so and exit (0 valid, 2 not)\n";
  out += common::options::help_rows(options(), defaults);
  return out;
}

}  // namespace epc::config
