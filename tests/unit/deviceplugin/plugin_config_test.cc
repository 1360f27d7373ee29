#include "deviceplugin/plugin_config.h"

#include <gtest/gtest.h>

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
  auto config = parse_plugin_flags({"--root", "/tmp/r", "--kubelet-dir=/tmp/k", "--enclave-limit",
                                    "20", "--provision-limit=5", "--node-name", "n1", "--extender",
                                    "10.0.0.1:9090", "--check-interval-ms=50"});
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

}  // namespace
}  // namespace epc::deviceplugin
