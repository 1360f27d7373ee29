#include "deviceplugin/plugin_config.h"

#include <fstream>

#include <gtest/gtest.h>

#include "tools/standins/temp_dir.h"

namespace epc::deviceplugin {
namespace {

TEST(PluginConfig, Defaults) {
  auto config = parse_plugin_flags({});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->root, "/");
  EXPECT_EQ(config->kubelet_dir, "/var/lib/kubelet/device-plugins");
  EXPECT_EQ(config->enclave_limit, 110U);
  EXPECT_EQ(config->provision_limit, 110U);
  EXPECT_TRUE(config->extender.empty());
  EXPECT_FALSE(config->help_requested);
}

TEST(PluginConfig, BothFlagForms) {
  auto config =
      parse_plugin_flags({"--root", "/tmp/r", "--kubelet-dir=/tmp/k", "--enclave-limit", "20",
                          "--provision-limit=5", "--node-name", "n1", "--extender", "10.0.0.1:9090",
                          "--extender-insecure=true", "--check-interval-ms=50"});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->root, "/tmp/r");
  EXPECT_EQ(config->kubelet_dir, "/tmp/k");
  EXPECT_EQ(config->enclave_limit, 20U);
  EXPECT_EQ(config->provision_limit, 5U);
  EXPECT_EQ(config->node_name, "n1");
  EXPECT_EQ(config->extender, "10.0.0.1:9090");
  EXPECT_EQ(config->check_interval.count(), 50);
}

TEST(PluginConfig, Help) {
  auto config = parse_plugin_flags({"--help"});
  ASSERT_TRUE(config.ok());
  EXPECT_TRUE(config->help_requested);
  EXPECT_NE(plugin_help_text().find("--enclave-limit"), std::string::npos);
  // Generated from the table: each flag with its YAML key and default.
  EXPECT_NE(plugin_help_text().find("--enclave-limit N   (slots.enclave)"), std::string::npos);
  EXPECT_NE(plugin_help_text().find("[default: 110]"), std::string::npos);
  EXPECT_NE(plugin_help_text().find("(kubelet.device_plugin_dir)"), std::string::npos);
}

TEST(PluginConfig, BadFlagsAreErrorsNamingTheFlag) {
  const std::vector<std::vector<std::string>> rows = {
      {"--enclave-limit", "0"},      // below 1
      {"--enclave-limit", "10001"},  // above kMaxSlots
      {"--provision-limit", "ten"},  // not a number
      {"--provision-limit", "-1"},   // signed
      {"--extender", "nohost"},      // no port
      {"--extender", "h:99999"},     // port out of range
      {"--check-interval-ms", "0"},  // zero period
      {"--root"},                    // missing value
      {"--root="},                   // empty root
      {"--frobnicate", "1"},         // unknown
  };
  for (const auto& row : rows) {
    auto config = parse_plugin_flags(row);
    ASSERT_FALSE(config.ok()) << row[0];
    EXPECT_NE(config.error().message.find(row[0].substr(0, row[0].find('='))), std::string::npos)
        << config.error().message;
  }
}

std::string write_file(const tools::standins::TempDir& dir, const std::string& content) {
  const std::string path = dir.file("plugin.yaml");
  std::ofstream(path) << content;
  return path;
}

TEST(PluginConfig, YamlFileSetsValuesAndFlagsOverrideIt) {
  tools::standins::TempDir dir("epc-cfg");
  const std::string path = write_file(dir,
                                      "root: /tmp/fake\n"
                                      "slots:\n"
                                      "  enclave: 20\n"
                                      "  provision: 3\n"
                                      "report:\n"
                                      "  extender: 10.0.0.1:9090\n"
                                      "  insecure: true\n"
                                      "  heartbeat_ms: 500\n"
                                      "healthz:\n"
                                      "  address: 127.0.0.1:0\n"
                                      "kubelet:\n"
                                      "  pod_resources_socket: /tmp/pr.sock\n");
  // The flag wins whether it comes before or after --config.
  auto config = parse_plugin_flags({"--enclave-limit", "7", "--config", path, "--root=/tmp/other"});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->config_file, path);
  EXPECT_EQ(config->enclave_limit, 7U);
  EXPECT_EQ(config->root, "/tmp/other");
  EXPECT_EQ(config->provision_limit, 3U);
  EXPECT_EQ(config->extender, "10.0.0.1:9090");
  EXPECT_EQ(config->healthz_address, "127.0.0.1:0");
  EXPECT_EQ(config->heartbeat.count(), 500);
  EXPECT_EQ(config->pod_resources_socket, "/tmp/pr.sock");
  EXPECT_EQ(config->kubelet_dir, "/var/lib/kubelet/device-plugins");  // default kept
}

TEST(PluginConfig, BadYamlFilesAreErrorsNamingTheFile) {
  tools::standins::TempDir dir("epc-cfg");
  const std::vector<std::pair<std::string, std::string>> rows = {
      {"slots:\n  enclave: 0\n", "slots.enclave: \"0\" is out of range 1..10000"},  // as the flag
      {"frobnicate: 1\n", "unknown key \"frobnicate\""},
      {"enclave-limit: 20\n", "unknown key \"enclave-limit\""},  // flag names are not keys
      {"slots: 20\n", "unknown key \"slots\""},                  // a group is not a setting
      {"- a\n- b\n", "mapping"},                                 // not a map
      {"root: [a, b]\n", "root: expected a single value"},       // not a scalar
      {"root: [unclosed\n", "not valid YAML"},                   // YAML syntax error
      {"config: other.yaml\n", "unknown key \"config\""},        // no nesting of files
  };
  for (const auto& [content, expected] : rows) {
    const std::string path = write_file(dir, content);
    auto config = parse_plugin_flags({"--config", path});
    ASSERT_FALSE(config.ok()) << content;
    EXPECT_NE(config.error().message.find(path), std::string::npos) << config.error().message;
    EXPECT_NE(config.error().message.find(expected), std::string::npos) << config.error().message;
  }
  auto missing = parse_plugin_flags({"--config", dir.file("absent.yaml")});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("absent.yaml"), std::string::npos);
}

// Plain text only to a loopback extender unless asked for; credentials only over TLS.
TEST(PluginConfig, ReportTransportRules) {
  struct Row {
    std::vector<std::string> args;
    const char* error_contains;  // nullptr: accepted
  };
  const std::vector<Row> rows = {
      {{"--extender", "127.0.0.1:9090"}, nullptr},
      {{"--extender", "epc-extender.sgx-system.svc:9090"}, "--extender-insecure"},
      {{"--extender", "epc-extender.sgx-system.svc:9090", "--extender-insecure", "true"}, nullptr},
      {{"--extender", "epc-extender.sgx-system.svc:9090", "--extender-ca-file", "/ca.crt",
        "--extender-token-file", "/var/run/secrets/epc/token"},
       nullptr},
      {{"--extender", "127.0.0.1:9090", "--extender-token-file", "/t"}, "need TLS"},
      {{"--extender", "127.0.0.1:9090", "--extender-ca-file", "/ca", "--extender-client-cert-file",
        "/c"},
       "go together"},
  };
  for (const Row& row : rows) {
    auto config = parse_plugin_flags(row.args);
    if (row.error_contains == nullptr) {
      EXPECT_TRUE(config.ok()) << config.error().message;
    } else {
      ASSERT_FALSE(config.ok()) << row.args[1];
      EXPECT_NE(config.error().message.find(row.error_contains), std::string::npos)
          << config.error().message;
    }
  }
  auto tls =
      parse_plugin_flags({"--extender", "e.svc:9090", "--extender-ca-file", "/ca",
                          "--extender-server-name", "epc-extender-reports.sgx-system.svc",
                          "--extender-client-cert-file", "/c", "--extender-client-key-file", "/k"});
  ASSERT_TRUE(tls.ok()) << tls.error().message;
  EXPECT_EQ(tls->extender_ca_file, "/ca");
  EXPECT_EQ(tls->extender_server_name, "epc-extender-reports.sgx-system.svc");
  EXPECT_EQ(tls->extender_client_key_file, "/k");
}

TEST(PluginConfig, EmptyYamlFileKeepsDefaults) {
  tools::standins::TempDir dir("epc-cfg");
  auto config = parse_plugin_flags({"--config", write_file(dir, "")});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->enclave_limit, 110U);
  EXPECT_TRUE(config->healthz_address.empty());
}

}  // namespace
}  // namespace epc::deviceplugin
