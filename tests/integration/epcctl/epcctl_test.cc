#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "extender/config/extender_config.h"
#include "extender/http/server.h"
#include "extender/metrics/metrics.h"
#include "extender/state/cluster_state.h"
#include "tools/epcctl/capacity_command.h"
#include "tools/epcctl/epcctl_options.h"
#include "tools/http_client/http_client.h"

namespace epc::tools::epcctl {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr std::int64_t kMi = 1024 * 1024;

state::ReportMessage report(std::string node, std::int64_t epc_mi, std::int64_t slots_used) {
  state::NodeState full;
  full.sgx_present = true;
  full.epc_capacity_bytes = epc_mi * kMi;
  full.epc_sections = {{0, epc_mi * kMi}};
  full.enclave_slots = {20, slots_used};
  full.provision_slots = {20, 0};
  state::ReportMessage message;
  message.node_name = std::move(node);
  message.instance_id = "instance-1";
  message.sequence = 1;
  message.plugin_version = "test";
  message.body = std::move(full);
  return message;
}

class EpcctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_ = state::ClusterState::create({});
    metrics_ = metrics::Metrics::create();
    // 1Gi with every slot free, 512Mi with 2 slots left, 256Mi with none (its EPC is stranded).
    ASSERT_TRUE(state_->apply(report("sgx-big", 1024, 0)).ok());
    ASSERT_TRUE(state_->apply(report("sgx-mid", 512, 18)).ok());
    ASSERT_TRUE(state_->apply(report("sgx-full", 256, 20)).ok());
    config_.http_address = "127.0.0.1";
    config_.http_port = 0;
    auto server = http::HttpServer::create(config_, *state_, *metrics_);
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
    server_->start();
  }

  EpcctlOptions options(std::vector<std::string> args) {
    args.insert(args.begin(), {"capacity", "--extender", "127.0.0.1:" + std::to_string(port())});
    auto parsed = parse_epcctl_options(args);
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    return parsed.ok() ? parsed.value() : EpcctlOptions{};
  }
  std::uint16_t port() const { return server_->port(); }

  config::ExtenderConfig config_;
  std::unique_ptr<state::ClusterState> state_;
  std::unique_ptr<metrics::Metrics> metrics_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST_F(EpcctlTest, the_standard_shapes_in_one_table) {
  http_client::HttpClient client(port());
  auto report = capacity_report(client, options({}));
  ASSERT_TRUE(report.ok()) << report.error().message;
  // 64Mi: 16 on sgx-big (slots 20), 2 on sgx-mid; sgx-full strands its 256Mi.
  EXPECT_THAT(*report, HasSubstr("shape (EPC, enclaves)"));
  EXPECT_THAT(*report, testing::ContainsRegex("64Mi, 1 +18 +2 +256Mi"));
  // 256Mi: 4 + 2; 1Gi: only sgx-big (1), the others strand 512 + 256; 4Gi: nothing fits.
  EXPECT_THAT(*report, testing::ContainsRegex("256Mi, 1 +6 +2 +256Mi"));
  EXPECT_THAT(*report, testing::ContainsRegex("1Gi, 1 +1 +1 +768Mi"));
  EXPECT_THAT(*report, testing::ContainsRegex("4Gi, 1 +0 +0 +1.75Gi"));
  EXPECT_THAT(*report, Not(HasSubstr("free EPC")));  // no node list for several shapes
}

TEST_F(EpcctlTest, one_shape_lists_the_nodes_with_the_most_room) {
  http_client::HttpClient client(port());
  auto report = capacity_report(client, options({"--epc", "128Mi", "--top", "1"}));
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_THAT(*report, testing::ContainsRegex("128Mi, 1 +10 +2 +256Mi"));
  EXPECT_THAT(*report, testing::ContainsRegex("sgx-big +8 +1Gi"));
  EXPECT_THAT(*report, Not(HasSubstr("sgx-mid ")));
  EXPECT_THAT(*report, HasSubstr("(1 more nodes with room)"));
}

TEST_F(EpcctlTest, a_refusal_or_no_extender_is_an_error_naming_why) {
  http_client::HttpClient client(port());
  auto refused =
      capacity_report(client, options({"--epc", "64Mi", "--enclaves", "0", "--provision", "0"}));
  ASSERT_TRUE(refused.ok()) << refused.error().message;  // EPC alone is a shape
  server_->stop();
  http_client::HttpClient nobody(port());
  auto gone = capacity_report(nobody, options({}));
  ASSERT_FALSE(gone.ok());
  EXPECT_THAT(gone.error().message, HasSubstr("asking the extender at 127.0.0.1:"));
}

TEST(EpcctlOptionsTest, flags_parse_and_errors_name_the_flag) {
  auto parsed = parse_epcctl_options(
      {"capacity", "--extender", "10.0.0.5:9999", "--epc", "512Mi,2Gi", "--enclaves", "2"});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->host, "10.0.0.5");
  EXPECT_EQ(parsed->port, 9999);
  EXPECT_EQ(parsed->epc_bytes, (std::vector<std::int64_t>{512 * kMi, 2048 * kMi}));
  EXPECT_EQ(parsed->enclaves, 2);
  EXPECT_EQ(parse_epcctl_options({"capacity"})->epc_bytes.size(), 4U);
  EXPECT_THAT(parse_epcctl_options({"capacity", "--epc", "lots"}).error().message,
              HasSubstr("--epc"));
  EXPECT_THAT(parse_epcctl_options({"capacity", "--extender", "nowhere"}).error().message,
              HasSubstr("--extender"));
  EXPECT_FALSE(parse_epcctl_options({}).ok());
  EXPECT_FALSE(parse_epcctl_options({"frobnicate"}).ok());
  EXPECT_TRUE(parse_epcctl_options({"--help"})->help);
}

}  // namespace
}  // namespace epc::tools::epcctl
