#include "extender/config/load_extender_config.h"

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

namespace epc::config {
namespace {

constexpr std::int64_t kMi = 1 << 20;

// Runs the loader over argv {"epc-extender", args...}.
common::Result<ExtenderConfig> load(std::vector<std::string> args) {
  static char program[] = "epc-extender";
  std::vector<char*> argv{program};
  for (auto& arg : args) {
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  return load_extender_config(static_cast<int>(argv.size() - 1), argv.data());
}

std::string write_file(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

const char kFullYaml[] = R"(
http:
  address: 0.0.0.0
  port: 9443
  url_prefix: /epc
  body_limit: 1Mi
  read_timeout: 5s
  idle_timeout: 2m
  threads: 2
  max_connections: 64
  header_limit: 8Ki
  insecure: true
grpc:
  address: 0.0.0.0:7070
  insecure: true
  max_message_size: 512Ki
  stream_max_in_flight: 8
  max_streams: 300
  stream_max_rate: 0
  stream_burst: 20
  stream_max_nodes: 5000
kube:
  max_watch_event_size: 2Mi
  max_response_size: 64Mi
scheduling:
  policy: MostAllocated
  weights:
    epc: 3
    enclave_slots: 0
  epc_headroom: 8Mi
  stale_after: 45s
  fragmentation:
    half_life_pods: 2000
  single_out_top_node: false
  epc_implies_enclave_slot: false
  request_memory_pods: 500
)";

TEST(LoadExtenderConfigTest, NoArgumentsGiveDefaults) {
  auto config = load({});
  ASSERT_TRUE(config.ok()) << config.error().message;
  const ExtenderConfig defaults;
  EXPECT_EQ(config->http_port, defaults.http_port);
  EXPECT_EQ(config->grpc_address, defaults.grpc_address);
  EXPECT_EQ(config->stale_after_ms, 30000);
  EXPECT_EQ(config->policy, core::score::PolicyKind::kStrandingAware);
  EXPECT_EQ(config->mix_half_life_pods, 500);  // core::PodMix's default
  EXPECT_TRUE(config->single_out_top_node);
  EXPECT_FALSE(config->help_requested);
}

TEST(LoadExtenderConfigTest, YamlSetsEveryKey) {
  auto config = apply_yaml_config(kFullYaml, ExtenderConfig{});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http_address, "0.0.0.0");
  EXPECT_EQ(config->http_port, 9443);
  EXPECT_EQ(config->url_prefix, "/epc");
  EXPECT_EQ(config->http_body_limit_bytes, static_cast<std::size_t>(kMi));
  EXPECT_EQ(config->http_read_timeout_ms, 5000);
  EXPECT_EQ(config->http_idle_timeout_ms, 120000);
  EXPECT_EQ(config->http_threads, 2);
  EXPECT_EQ(config->grpc_address, "0.0.0.0:7070");
  EXPECT_EQ(config->grpc_max_message_bytes, 512u * 1024);
  EXPECT_EQ(config->grpc_stream_max_in_flight, 8u);
  EXPECT_EQ(config->http_max_connections, 64u);
  EXPECT_EQ(config->http_header_limit_bytes, 8u * 1024);
  EXPECT_EQ(config->grpc_max_streams, 300u);
  EXPECT_EQ(config->grpc_stream_max_rate, 0);
  EXPECT_EQ(config->grpc_stream_burst, 20);
  EXPECT_EQ(config->grpc_stream_max_nodes, 5000u);
  EXPECT_EQ(config->kube_max_watch_event_bytes, static_cast<std::size_t>(2 * kMi));
  EXPECT_EQ(config->kube_max_response_bytes, static_cast<std::size_t>(64 * kMi));
  EXPECT_EQ(config->policy, core::score::PolicyKind::kMostAllocated);
  EXPECT_EQ(config->weights.epc, 3);
  EXPECT_EQ(config->weights.enclave_slots, 0);
  EXPECT_EQ(config->epc_headroom_bytes, 8 * kMi);
  EXPECT_EQ(config->stale_after_ms, 45000);
  EXPECT_EQ(config->mix_half_life_pods, 2000);
  EXPECT_FALSE(config->single_out_top_node);
  EXPECT_FALSE(config->pod_request.epc_implies_enclave_slot);
  EXPECT_EQ(config->request_memory_pods, 500u);
}

TEST(LoadExtenderConfigTest, FlagsOverrideTheFileWhereverTheyStand) {
  const auto path = write_file("precedence.yaml", kFullYaml);
  // --http-port comes before --config on the command line and still wins.
  auto config = load({"--http-port", "0", "--config", path, "--policy=LeastAllocated",
                      "--stale-after", "1s", "--epc-headroom=16Mi"});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http_port, 0);
  EXPECT_EQ(config->policy, core::score::PolicyKind::kLeastAllocated);
  EXPECT_EQ(config->stale_after_ms, 1000);
  EXPECT_EQ(config->epc_headroom_bytes, 16 * kMi);
  // Keys without a flag on the command line keep the file's value.
  EXPECT_EQ(config->http_address, "0.0.0.0");
  EXPECT_EQ(config->weights.epc, 3);
}

TEST(LoadExtenderConfigTest, LaterFlagWins) {
  auto config = load({"--http-threads", "2", "--http-threads=4"});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->http_threads, 4);
}

TEST(LoadExtenderConfigTest, EveryFlagIsAccepted) {
  auto config = load({"--http-address",
                      "::1",
                      "--http-port",
                      "1",
                      "--url-prefix",
                      "",
                      "--body-limit",
                      "64Ki",
                      "--http-read-timeout",
                      "1s",
                      "--http-idle-timeout",
                      "91s",
                      "--http-threads",
                      "3",
                      "--grpc-address",
                      "unix:/tmp/x.sock",
                      "--grpc-max-message-size",
                      "1Mi",
                      "--grpc-stream-max-in-flight",
                      "2",
                      "--policy",
                      "BestFit",
                      "--epc-weight",
                      "0",
                      "--slot-weight",
                      "5",
                      "--epc-headroom",
                      "0",
                      "--stale-after",
                      "0",
                      "--mix-half-life-pods",
                      "1",
                      "--single-out-top-node",
                      "false",
                      "--epc-implies-enclave-slot",
                      "false",
                      "--request-memory-pods",
                      "10",
                      "--http-max-connections",
                      "1",
                      "--http-header-limit",
                      "1Ki",
                      "--grpc-max-streams",
                      "1000000",
                      "--grpc-stream-max-rate",
                      "1",
                      "--grpc-stream-burst",
                      "1",
                      "--grpc-stream-max-nodes",
                      "1000000",
                      "--kube-max-watch-event-size",
                      "1Ki",
                      "--kube-max-response-size",
                      "16Gi"});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http_address, "::1");
  EXPECT_EQ(config->url_prefix, "");
  EXPECT_EQ(config->http_body_limit_bytes, 64u * 1024);
  EXPECT_EQ(config->http_idle_timeout_ms, 91000);
  EXPECT_EQ(config->grpc_address, "unix:/tmp/x.sock");
  EXPECT_EQ(config->weights.epc, 0);
  EXPECT_EQ(config->weights.enclave_slots, 5);
  EXPECT_EQ(config->stale_after_ms, 0);
  EXPECT_EQ(config->mix_half_life_pods, 1);
  EXPECT_FALSE(config->single_out_top_node);
  EXPECT_EQ(config->request_memory_pods, 10u);
  EXPECT_EQ(config->http_max_connections, 1u);
  EXPECT_EQ(config->http_header_limit_bytes, 1024u);
  EXPECT_EQ(config->grpc_max_streams, 1000000u);
  EXPECT_EQ(config->grpc_stream_max_rate, 1);
  EXPECT_EQ(config->grpc_stream_burst, 1);
  EXPECT_EQ(config->grpc_stream_max_nodes, 1000000u);
  EXPECT_EQ(config->kube_max_watch_event_bytes, 1024u);
  EXPECT_EQ(config->kube_max_response_bytes, std::size_t{16} << 30);
}

// The input bounds' defaults are the documented ones (docs/operations.md, "Bounds").
TEST(LoadExtenderConfigTest, BoundsHaveTheirDocumentedDefaults) {
  auto config = load({});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http_max_connections, 256u);
  EXPECT_EQ(config->http_header_limit_bytes, 16u * 1024);
  EXPECT_EQ(config->http_body_limit_bytes, static_cast<std::size_t>(8 * kMi));
  EXPECT_EQ(config->grpc_max_message_bytes, static_cast<std::size_t>(4 * kMi));
  EXPECT_EQ(config->grpc_max_streams, 10000u);
  EXPECT_EQ(config->grpc_stream_max_rate, 50);
  EXPECT_EQ(config->grpc_stream_burst, 500);
  EXPECT_EQ(config->grpc_stream_max_nodes, 1u);
  EXPECT_EQ(config->kube_max_watch_event_bytes, static_cast<std::size_t>(8 * kMi));
  EXPECT_EQ(config->kube_max_response_bytes, static_cast<std::size_t>(256 * kMi));
}

// FragmentationAware is accepted by name from the file and the flag, with its mix half-life.
TEST(LoadExtenderConfigTest, FragmentationAwarePolicyAndHalfLife) {
  const auto path = write_file("fragmentation.yaml",
                               "scheduling:\n  policy: FragmentationAware\n"
                               "  fragmentation:\n    half_life_pods: 1000000\n");
  auto from_file = load({"--config", path});
  ASSERT_TRUE(from_file.ok()) << from_file.error().message;
  EXPECT_EQ(from_file->policy, core::score::PolicyKind::kFragmentationAware);
  EXPECT_EQ(from_file->mix_half_life_pods, 1000000);

  auto from_flags = load({"--policy=FragmentationAware", "--mix-half-life-pods", "50"});
  ASSERT_TRUE(from_flags.ok()) << from_flags.error().message;
  EXPECT_EQ(from_flags->policy, core::score::PolicyKind::kFragmentationAware);
  EXPECT_EQ(from_flags->mix_half_life_pods, 50);
}

TEST(LoadExtenderConfigTest, HelpWinsOverEverythingElse) {
  auto config = load({"--bogus", "--help"});
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->help_requested);
}

TEST(LoadExtenderConfigTest, HelpTextListsEveryFlagKeyAndDefault) {
  const std::string help = help_text();
  for (const char* expected : {"--config FILE",
                               "--http-address",
                               "(http.address)",
                               "--http-port",
                               "[default: 8888]",
                               "--url-prefix",
                               "[default: /sgx]",
                               "--grpc-address",
                               "[default: 127.0.0.1:9090]",
                               "--policy",
                               "[default: StrandingAware]",
                               "--epc-weight",
                               "(scheduling.weights.epc)",
                               "--slot-weight",
                               "(scheduling.weights.enclave_slots)",
                               "--epc-headroom",
                               "--stale-after",
                               "[default: 30s]",
                               "--http-threads",
                               "--body-limit",
                               "[default: 8Mi]",
                               "--grpc-max-message-size",
                               "[default: 4Mi]",
                               "--http-idle-timeout",
                               "[default: 120s]",
                               "FragmentationAware",
                               "--mix-half-life-pods",
                               "(scheduling.fragmentation.half_life_pods)",
                               "[default: 500]",
                               "--http-max-connections",
                               "(http.max_connections)",
                               "[default: 256]",
                               "--http-header-limit",
                               "[default: 16Ki]",
                               "--grpc-max-streams",
                               "[default: 10000]",
                               "--grpc-stream-max-rate",
                               "(grpc.stream_max_rate)",
                               "--grpc-stream-burst",
                               "--grpc-stream-max-nodes",
                               "(grpc.stream_max_nodes)",
                               "--kube-max-watch-event-size",
                               "[default: 8Mi]",
                               "--kube-max-response-size",
                               "[default: 256Mi]"}) {
    EXPECT_NE(help.find(expected), std::string::npos) << expected;
  }
}

// The example file documents every setting: each "(key)" of --help is a key there.
TEST(LoadExtenderConfigTest, ExampleConfigFileHasEveryKey) {
  std::ifstream in(std::string(EPC_TEST_DATA_DIR) + "/../../config/extender/epc-extender.yaml");
  const YAML::Node root = YAML::Load(in);
  const std::string help = help_text();
  int keys = 0;
  for (std::size_t open = help.find("   ("); open != std::string::npos;
       open = help.find("   (", open + 1)) {
    const std::size_t close = help.find(')', open);
    const std::string key = help.substr(open + 4, close - open - 4);
    // reset(), not operator=: assigning a YAML::Node writes through to the tree it came from.
    YAML::Node node;
    node.reset(root);
    bool whole_key = false;
    for (std::size_t from = 0; node.IsMap() && !whole_key;) {
      const std::size_t dot = key.find('.', from);
      const YAML::Node& map = node;
      node.reset(map[key.substr(from, dot == std::string::npos ? dot : dot - from)]);
      whole_key = dot == std::string::npos;
      from = dot + 1;
    }
    EXPECT_TRUE(whole_key && node.IsDefined() && !node.IsMap())
        << key << " is not in config/extender/epc-extender.yaml";
    ++keys;
  }
  EXPECT_GT(keys, 40);
}

TEST(LoadExtenderConfigTest, ExampleConfigFileLoadsAndMatchesDefaults) {
  const std::string path =
      std::string(EPC_TEST_DATA_DIR) + "/../../config/extender/epc-extender.yaml";
  auto config = load({"--config", path});
  ASSERT_TRUE(config.ok()) << config.error().message;
  const ExtenderConfig defaults;
  EXPECT_EQ(config->http_address, defaults.http_address);
  EXPECT_EQ(config->http_port, defaults.http_port);
  EXPECT_EQ(config->url_prefix, defaults.url_prefix);
  EXPECT_EQ(config->http_body_limit_bytes, defaults.http_body_limit_bytes);
  EXPECT_EQ(config->http_read_timeout_ms, defaults.http_read_timeout_ms);
  EXPECT_EQ(config->http_idle_timeout_ms, defaults.http_idle_timeout_ms);
  EXPECT_EQ(config->http_threads, defaults.http_threads);
  EXPECT_EQ(config->grpc_address, defaults.grpc_address);
  EXPECT_EQ(config->grpc_max_message_bytes, defaults.grpc_max_message_bytes);
  EXPECT_EQ(config->grpc_stream_max_in_flight, defaults.grpc_stream_max_in_flight);
  EXPECT_EQ(config->policy, defaults.policy);
  EXPECT_EQ(config->weights.epc, defaults.weights.epc);
  EXPECT_EQ(config->weights.enclave_slots, defaults.weights.enclave_slots);
  EXPECT_EQ(config->epc_headroom_bytes, defaults.epc_headroom_bytes);
  EXPECT_EQ(config->stale_after_ms, defaults.stale_after_ms);
  EXPECT_EQ(config->mix_half_life_pods, defaults.mix_half_life_pods);
  EXPECT_EQ(config->request_memory_pods, defaults.request_memory_pods);
  EXPECT_EQ(config->pod_request.epc_aliases, defaults.pod_request.epc_aliases);
  EXPECT_EQ(config->kube_kubeconfig, defaults.kube_kubeconfig);
  EXPECT_EQ(config->kube_in_cluster, defaults.kube_in_cluster);
  EXPECT_EQ(config->kube_qps, defaults.kube_qps);
  EXPECT_EQ(config->kube_burst, defaults.kube_burst);
  EXPECT_EQ(config->kube_request_timeout_ms, defaults.kube_request_timeout_ms);
  EXPECT_EQ(config->kube_bind_workers, defaults.kube_bind_workers);
  EXPECT_EQ(config->reservation_ttl_ms, defaults.reservation_ttl_ms);
  EXPECT_EQ(config->hint_ttl_ms, defaults.hint_ttl_ms);
  EXPECT_EQ(config->capacity_shapes_epc_bytes, defaults.capacity_shapes_epc_bytes);
  EXPECT_EQ(config->http_max_connections, defaults.http_max_connections);
  EXPECT_EQ(config->http_header_limit_bytes, defaults.http_header_limit_bytes);
  EXPECT_EQ(config->grpc_max_streams, defaults.grpc_max_streams);
  EXPECT_EQ(config->grpc_stream_max_rate, defaults.grpc_stream_max_rate);
  EXPECT_EQ(config->grpc_stream_burst, defaults.grpc_stream_burst);
  EXPECT_EQ(config->grpc_stream_max_nodes, defaults.grpc_stream_max_nodes);
  EXPECT_EQ(config->kube_max_watch_event_bytes, defaults.kube_max_watch_event_bytes);
  EXPECT_EQ(config->kube_max_response_bytes, defaults.kube_max_response_bytes);
}

TEST(LoadExtenderConfigTest, CapacityShapesTakeQuantitiesAndRefuseNonsense) {
  auto config = load({"--capacity-shapes", "128Mi, 2Gi"});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->capacity_shapes_epc_bytes, (std::vector<std::int64_t>{128LL << 20, 2LL << 30}));
  config = load({"--capacity-shapes", ""});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_TRUE(config->capacity_shapes_epc_bytes.empty());
  for (const char* bad : {"64Mi,64Mi", "lots", "1Ki", "2Pi"}) {
    auto refused = load({"--capacity-shapes", bad});
    ASSERT_FALSE(refused.ok()) << bad;
    EXPECT_NE(refused.error().message.find("capacity-shapes"), std::string::npos)
        << refused.error().message;
  }
}

TEST(LoadExtenderConfigTest, EpcAliasesTakeNamesAndUnits) {
  auto config = load({"--epc-aliases", "example.com/epc_kib=Ki, other.org/epc_pages=4Ki"});
  ASSERT_TRUE(config.ok()) << config.error().message;
  ASSERT_EQ(config->pod_request.epc_aliases.size(), 2u);
  EXPECT_EQ(config->pod_request.epc_aliases[0].name, "example.com/epc_kib");
  EXPECT_EQ(config->pod_request.epc_aliases[0].bytes_per_unit, 1024);
  EXPECT_EQ(config->pod_request.epc_aliases[1].bytes_per_unit, 4096);
  auto none = load({"--epc-aliases", ""});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->pod_request.epc_aliases.empty());
  auto bad = load({"--epc-aliases", "example.com/epc"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("must be NAME=UNIT"), std::string::npos);
  EXPECT_FALSE(load({"--epc-aliases", "example.com/epc=lots"}).ok());
}

TEST(LoadExtenderConfigTest, InClusterAndKubeconfigExcludeEachOther) {
  auto both = load({"--in-cluster", "true", "--kubeconfig", "/tmp/k"});
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.error().message.find("exclude each other"), std::string::npos);
  auto one = load({"--kubeconfig", "/tmp/k"});
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->api_enabled());
}

// Plain text and unauthenticated plugins only where nothing off the machine can reach them, or
// when asked for by name; tokens and certificates only over TLS.
TEST(LoadExtenderConfigTest, TransportSecurityRules) {
  struct Row {
    const char* name;
    std::vector<std::string> args;
    const char* error_contains;  // nullptr: accepted
  };
  const std::vector<Row> rows = {
      {"loopback_defaults", {}, nullptr},
      {"http_off_loopback_plain", {"--http-address", "0.0.0.0"}, "http.insecure"},
      {"http_off_loopback_insecure",
       {"--http-address", "0.0.0.0", "--http-insecure", "true"},
       nullptr},
      {"http_off_loopback_tls",
       {"--http-address", "0.0.0.0", "--http-tls-cert-file", "c", "--http-tls-key-file", "k"},
       nullptr},
      {"http_cert_without_key", {"--http-tls-cert-file", "c"}, "go together"},
      {"http_client_ca_without_tls", {"--http-tls-client-ca-file", "ca"}, "needs TLS"},
      {"grpc_off_loopback_plain", {"--grpc-address", "0.0.0.0:9090"}, "grpc.insecure"},
      {"grpc_off_loopback_tls_unauthenticated",
       {"--grpc-address", "0.0.0.0:9090", "--grpc-tls-cert-file", "c", "--grpc-tls-key-file", "k"},
       "plugins are not authenticated"},
      {"grpc_off_loopback_insecure",
       {"--grpc-address", "[::]:9090", "--grpc-insecure", "true"},
       nullptr},
      {"grpc_token_without_tls", {"--grpc-auth", "token", "--in-cluster", "true"}, "needs TLS"},
      {"grpc_token_without_api",
       {"--grpc-auth", "token", "--grpc-tls-cert-file", "c", "--grpc-tls-key-file", "k"},
       "Kubernetes API"},
      {"grpc_token",
       {"--grpc-address", "0.0.0.0:9090", "--grpc-auth", "token", "--grpc-tls-cert-file", "c",
        "--grpc-tls-key-file", "k", "--in-cluster", "true"},
       nullptr},
      {"grpc_mtls_without_ca",
       {"--grpc-auth", "mtls", "--grpc-tls-cert-file", "c", "--grpc-tls-key-file", "k"},
       "grpc.tls.client_ca_file"},
      {"grpc_mtls",
       {"--grpc-address", "0.0.0.0:9090", "--grpc-auth", "mtls", "--grpc-tls-cert-file", "c",
        "--grpc-tls-key-file", "k", "--grpc-tls-client-ca-file", "ca"},
       nullptr},
      {"grpc_ca_without_mtls",
       {"--grpc-tls-cert-file", "c", "--grpc-tls-key-file", "k", "--grpc-tls-client-ca-file", "ca"},
       "mtls only"},
      {"grpc_bad_auth", {"--grpc-auth", "jwt"}, "none, token or mtls"},
      {"bad_service_account",
       {"--grpc-token-service-accounts", "epc-device-plugin"},
       "NAMESPACE/NAME"},
      {"short_reload", {"--tls-reload-period", "10ms"}, "--tls-reload-period"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    auto config = load(row.args);
    if (row.error_contains == nullptr) {
      EXPECT_TRUE(config.ok()) << config.error().message;
    } else {
      ASSERT_FALSE(config.ok());
      EXPECT_NE(config.error().message.find(row.error_contains), std::string::npos)
          << config.error().message;
    }
  }
  auto accounts = load({"--grpc-token-service-accounts", "a/b, c/d"});
  ASSERT_TRUE(accounts.ok());
  EXPECT_EQ(accounts->grpc_token_service_accounts, (std::vector<std::string>{"a/b", "c/d"}));
  EXPECT_EQ(accounts->grpc_token_audience, "epc-extender");
  EXPECT_EQ(accounts->grpc_token_cache_ttl_ms, 120000);
}

TEST(LoadExtenderConfigTest, EmptyFileChangesNothing) {
  const auto path = write_file("empty.yaml", "# nothing\n");
  auto config = load({"--config", path});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->http_port, ExtenderConfig{}.http_port);
}

// ---------------------------------------------------------------------------------------------
// Bad input: each row must fail with a message naming the culprit.

struct BadRow {
  const char* name;
  std::vector<std::string> args;
  const char* error_contains;
};

TEST(LoadExtenderConfigTest, BadFlagsTable) {
  const std::vector<BadRow> rows = {
      {"unknown_flag", {"--htp-port", "1"}, "unknown flag --htp-port"},
      {"positional", {"extra"}, "unexpected argument"},
      {"missing_value", {"--http-port"}, "needs a value"},
      {"port_not_number", {"--http-port", "http"}, "--http-port"},
      {"port_out_of_range", {"--http-port", "65536"}, "out of range"},
      {"port_trailing_junk", {"--http-port", "80x"}, "not an integer"},
      {"negative_threads", {"--http-threads", "-1"}, "--http-threads"},
      {"zero_threads", {"--http-threads", "0"}, "--http-threads"},
      {"unknown_policy", {"--policy", "Random"}, "unknown scoring policy \"Random\""},
      // The error lists every accepted name, the newest policy included.
      {"unknown_policy_lists_names", {"--policy", "Random"}, "FragmentationAware"},
      // Names are case-sensitive, as kube-scheduler's scoring strategy types.
      {"policy_wrong_case", {"--policy", "fragmentationaware"}, "unknown scoring policy"},
      {"zero_half_life",
       {"--mix-half-life-pods", "0"},
       "--mix-half-life-pods: \"0\" is out of range"},
      {"negative_half_life", {"--mix-half-life-pods", "-5"}, "out of range 1..1000000"},
      {"huge_half_life", {"--mix-half-life-pods", "1000001"}, "out of range"},
      {"fractional_half_life", {"--mix-half-life-pods", "2.5"}, "not an integer"},
      {"weight_over_100", {"--epc-weight", "101"}, "--epc-weight"},
      {"both_weights_zero", {"--epc-weight", "0", "--slot-weight", "0"}, "both be 0"},
      {"bad_headroom", {"--epc-headroom", "8Mx"}, "--epc-headroom"},
      {"fractional_headroom", {"--epc-headroom", "0.5"}, "--epc-headroom"},
      {"negative_headroom", {"--epc-headroom", "-1Mi"}, "--epc-headroom"},
      {"headroom_over_64Ti", {"--epc-headroom", "65Ti"}, "out of range"},
      {"stale_no_unit", {"--stale-after", "30"}, "missing unit"},
      {"zero_body_limit", {"--body-limit", "0"}, "--body-limit"},
      {"huge_body_limit", {"--body-limit", "2Gi"}, "out of range"},
      {"zero_read_timeout", {"--http-read-timeout", "0"}, "longer than 0"},
      {"prefix_without_slash", {"--url-prefix", "sgx"}, "must start with /"},
      {"prefix_trailing_slash", {"--url-prefix", "/sgx/"}, "must start with /"},
      // The extender logs every line at one level: there is no log level to set.
      {"no_log_level", {"--log-level", "info"}, "unknown flag --log-level"},
      {"bad_bool", {"--epc-implies-enclave-slot", "yes"}, "not true or false"},
      {"empty_grpc_address", {"--grpc-address="}, "must not be empty"},
      {"config_without_file", {"--config"}, "--config needs a file name"},
      {"config_missing_file", {"--config", "/nonexistent/epc.yaml"}, "cannot read config file"},
      // The bounds: zero or absurd values would disable them or the extender.
      {"zero_connections", {"--http-max-connections", "0"}, "--http-max-connections"},
      {"header_limit_under_1Ki", {"--http-header-limit", "512"}, "out of range"},
      {"header_limit_over_1Mi", {"--http-header-limit", "2Mi"}, "--http-header-limit"},
      {"zero_streams", {"--grpc-max-streams", "0"}, "--grpc-max-streams"},
      {"too_many_streams", {"--grpc-max-streams", "1000001"}, "out of range"},
      {"negative_rate", {"--grpc-stream-max-rate", "-1"}, "--grpc-stream-max-rate"},
      {"zero_burst", {"--grpc-stream-burst", "0"}, "--grpc-stream-burst"},
      {"zero_nodes_per_stream", {"--grpc-stream-max-nodes", "0"}, "--grpc-stream-max-nodes"},
      {"tiny_watch_event_limit", {"--kube-max-watch-event-size", "100"}, "out of range"},
      {"bad_response_limit", {"--kube-max-response-size", "big"}, "--kube-max-response-size"},
  };
  for (const BadRow& row : rows) {
    SCOPED_TRACE(row.name);
    auto config = load(row.args);
    ASSERT_FALSE(config.ok());
    EXPECT_NE(config.error().message.find(row.error_contains), std::string::npos)
        << config.error().message;
  }
}

TEST(LoadExtenderConfigTest, BadYamlTable) {
  const std::vector<std::pair<const char*, const char*>> rows = {
      {"http:\n  prot: 80\n", "unknown key \"http.prot\""},
      {"scheduling:\n  weights:\n    gpu: 1\n", "unknown key \"scheduling.weights.gpu\""},
      {"http:\n  port: [1, 2]\n", "http.port: expected a single value"},
      {"http:\n  port:\n", "http.port: expected a single value"},
      {"http:\n  port: 99999\n", "http.port: \"99999\" is out of range"},
      {"scheduling:\n  stale_after: soon\n", "scheduling.stale_after"},
      {"scheduling:\n  fragmentation:\n    half_life_pods: 0\n",
       "scheduling.fragmentation.half_life_pods: \"0\" is out of range"},
      {"scheduling:\n  fragmentation: 500\n", "unknown key \"scheduling.fragmentation\""},
      {"scheduling:\n  epc_headroom: lots\n", "scheduling.epc_headroom"},
      {"- a\n- b\n", "top level must be a mapping"},
      {"http: {port: 80\n", "not valid YAML"},
      {"http: 80\n", "unknown key \"http\""},
  };
  for (const auto& [yaml, expected] : rows) {
    SCOPED_TRACE(yaml);
    auto config = apply_yaml_config(yaml, ExtenderConfig{});
    ASSERT_FALSE(config.ok());
    EXPECT_NE(config.error().message.find(expected), std::string::npos) << config.error().message;
  }
}

TEST(LoadExtenderConfigTest, FileErrorsNameTheFile) {
  const auto path = write_file("bad.yaml", "grpc:\n  adress: x\n");
  auto config = load({"--config", path});
  ASSERT_FALSE(config.ok());
  EXPECT_NE(config.error().message.find(path), std::string::npos);
  EXPECT_NE(config.error().message.find("grpc.adress"), std::string::npos);
}

}  // namespace
}  // namespace epc::config
